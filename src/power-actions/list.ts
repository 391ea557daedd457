import { sql } from "drizzle-orm";
import { powerActions as p } from "../db/schema";
import type { ListSpec } from "../list-query/engine";
import { enumFilter, rangeFilters, uuidFilter } from "../list-query/filters";
import { POWER_ACTION_STATUSES, powerActionStatusSql } from "./status";

/** The power action list's field table. */
export const powerActionListSpec: ListSpec = {
  filters: {
    node_id: uuidFilter(sql`${p.nodeId}`, "Power actions of this node"),
    action: enumFilter(sql`${p.action}`, ["reboot", "shutdown"], "reboot or shutdown"),
    status: enumFilter(powerActionStatusSql, POWER_ACTION_STATUSES, "The power action's status"),
    ...rangeFilters("scheduled_at", sql`${p.scheduledAt}`, "datetime"),
    ...rangeFilters("inserted_at", sql`${p.insertedAt}`, "datetime"),
  },
  sortable: {
    scheduled_at: sql`${p.scheduledAt}`,
    inserted_at: sql`${p.insertedAt}`,
  },
  defaultOrder: [{ field: "inserted_at", direction: "desc" }],
  tieBreaker: sql`${p.id}`,
};
