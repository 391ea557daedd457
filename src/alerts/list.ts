import { sql } from "drizzle-orm";
import { ALERT_METRICS } from "../alert-rules/schema";
import { alerts as a } from "../db/schema";
import type { ListSpec } from "../list-query/engine";
import { enumFilter, presenceFilter, rangeFilters, uuidFilter } from "../list-query/filters";

/** The alert list's field table. */
export const alertListSpec: ListSpec = {
  filters: {
    status: enumFilter(sql`${a.status}`, ["firing", "resolved"], "firing or resolved"),
    level: enumFilter(sql`${a.level}`, ["warning", "critical"], "warning or critical"),
    metric: enumFilter(sql`${a.metric}`, ALERT_METRICS, "Metric of the alert's rule"),
    node_id: uuidFilter(sql`${a.nodeId}`, "Alerts of this node"),
    rule_id: uuidFilter(sql`${a.ruleId}`, "Alerts of this rule"),
    acknowledged: presenceFilter(sql`${a.acknowledgedAt}`, "Acknowledged (true) or not (false)"),
    cleared: presenceFilter(sql`${a.clearedAt}`, "Cleared by hand (true) or not (false)"),
    ...rangeFilters("started_at", sql`${a.startedAt}`, "datetime"),
    ...rangeFilters("resolved_at", sql`${a.resolvedAt}`, "datetime"),
  },
  sortable: {
    started_at: sql`${a.startedAt}`,
    resolved_at: sql`${a.resolvedAt}`,
    level: sql`${a.level}`,
    value: sql`${a.value}`,
    peak_value: sql`${a.peakValue}`,
    metric: sql`${a.metric}`,
    updated_at: sql`${a.updatedAt}`,
  },
  defaultOrder: [{ field: "started_at", direction: "desc" }],
  tieBreaker: sql`${a.id}`,
};
