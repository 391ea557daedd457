import type { alertNotes, alerts } from "../db/schema";
import { isoOrNull, isoSeconds } from "../time";
import type { AlertNoteResponse, AlertResponse } from "./schema";

/** Renders an alert row (metric, level and status were written from the same closed sets). */
export function presentAlert(row: typeof alerts.$inferSelect): AlertResponse {
  return {
    id: row.id,
    rule_id: row.ruleId,
    node_id: row.nodeId,
    metric: row.metric as AlertResponse["metric"],
    level: row.level as AlertResponse["level"],
    status: row.status as AlertResponse["status"],
    value: row.value,
    peak_value: row.peakValue,
    threshold: row.threshold,
    acknowledged: row.acknowledgedAt !== null,
    acknowledged_at: isoOrNull(row.acknowledgedAt),
    started_at: isoSeconds(row.startedAt),
    resolved_at: isoOrNull(row.resolvedAt),
    cleared_at: isoOrNull(row.clearedAt),
    last_notified_at: isoOrNull(row.lastNotifiedAt),
    updated_at: isoSeconds(row.updatedAt),
  };
}

/** Renders an alert note row. */
export function presentAlertNote(row: typeof alertNotes.$inferSelect): AlertNoteResponse {
  return {
    id: row.id,
    alert_id: row.alertId,
    body: row.body,
    author: row.author,
    inserted_at: isoSeconds(row.insertedAt),
  };
}
