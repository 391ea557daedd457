import { sql } from "drizzle-orm";
import { ALERT_METRICS } from "../alert-rules/metrics";
import { alertSilences as s } from "../db/schema";
import type { ListSpec } from "../list-query/engine";
import { booleanFilter, enumFilter, rangeFilters } from "../list-query/filters";

/** The silence list's field table. */
export const alertSilenceListSpec: ListSpec = {
  filters: {
    active: booleanFilter("Silencing now (true) or not (false: expired or not started)", (on) => {
      const now = Date.now();
      const active = sql`(${s.startsAt} <= ${now} AND ${s.endsAt} > ${now})`;
      return on ? active : sql`NOT ${active}`;
    }),
    metric: enumFilter(sql`${s.metric}`, ALERT_METRICS, "Silences of this metric"),
    ...rangeFilters("starts_at", sql`${s.startsAt}`, "datetime"),
    ...rangeFilters("ends_at", sql`${s.endsAt}`, "datetime"),
    ...rangeFilters("inserted_at", sql`${s.insertedAt}`, "datetime"),
  },
  sortable: {
    starts_at: sql`${s.startsAt}`,
    ends_at: sql`${s.endsAt}`,
    inserted_at: sql`${s.insertedAt}`,
  },
  defaultOrder: [{ field: "inserted_at", direction: "desc" }],
  tieBreaker: sql`${s.id}`,
};
