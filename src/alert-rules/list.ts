import { sql } from "drizzle-orm";
import { alertRules as r } from "../db/schema";
import type { ListSpec } from "../list-query/engine";
import { booleanFilter, enumFilter, rangeFilters, textFilter } from "../list-query/filters";
import { ALERT_METRICS } from "./schema";

/** The alert rule list's field table. */
export const alertRuleListSpec: ListSpec = {
  filters: {
    name: textFilter(sql`${r.name}`, "Filter by name (exact match or wildcard: prefix, suffix, substring)"),
    metric: enumFilter(sql`${r.metric}`, ALERT_METRICS, "Filter by metric"),
    enabled: booleanFilter(
      "Only enabled (true) or disabled (false) rules",
      (on) => sql`${r.enabled} = ${on ? 1 : 0}`,
    ),
    ...rangeFilters("inserted_at", sql`${r.insertedAt}`, "datetime"),
    ...rangeFilters("updated_at", sql`${r.updatedAt}`, "datetime"),
  },
  sortable: {
    name: sql`${r.name}`,
    metric: sql`${r.metric}`,
    inserted_at: sql`${r.insertedAt}`,
    updated_at: sql`${r.updatedAt}`,
  },
  defaultOrder: [{ field: "inserted_at", direction: "asc" }],
  tieBreaker: sql`${r.id}`,
};
