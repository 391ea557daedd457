import { isoSeconds } from "../time";
import type { AlertRuleResponse } from "./schema";
import type { AlertRuleRow } from "./store";

/** Renders an alert rule row; targeting and channel ids as stored (validated on the way in). */
export function presentAlertRule(row: AlertRuleRow): AlertRuleResponse {
  return {
    id: row.id,
    name: row.name,
    metric: row.metric as AlertRuleResponse["metric"],
    operator: row.operator as AlertRuleResponse["operator"],
    warning_threshold: row.warningThreshold,
    critical_threshold: row.criticalThreshold,
    for_seconds: row.forSeconds,
    targeting: JSON.parse(row.targeting) as AlertRuleResponse["targeting"],
    enabled: row.enabled,
    channel_ids: JSON.parse(row.channelIds) as string[],
    repeat_interval_seconds: row.repeatIntervalSeconds,
    inserted_at: isoSeconds(row.insertedAt),
    updated_at: isoSeconds(row.updatedAt),
  };
}
