import { sql } from "drizzle-orm";
import { rebootOrchestrations as o } from "../db/schema";
import type { ListSpec } from "../list-query/engine";
import { enumFilter, rangeFilters, uuidFilter } from "../list-query/filters";
import { REBOOT_ORCHESTRATION_STATUSES } from "./schema";

/** The reboot orchestration list's field table. */
export const rebootOrchestrationListSpec: ListSpec = {
  filters: {
    node_id: uuidFilter(sql`${o.nodeId}`, "Orchestrations of this parent node"),
    status: enumFilter(sql`${o.status}`, REBOOT_ORCHESTRATION_STATUSES, "The orchestration's status"),
    ...rangeFilters("initiated_at", sql`${o.initiatedAt}`, "datetime"),
  },
  sortable: {
    initiated_at: sql`${o.initiatedAt}`,
    updated_at: sql`${o.updatedAt}`,
  },
  defaultOrder: [{ field: "initiated_at", direction: "desc" }],
  tieBreaker: sql`${o.id}`,
};
