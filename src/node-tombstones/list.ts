import { sql } from "drizzle-orm";
import { nodeTombstones } from "../db/schema";
import type { ListSpec } from "../list-query/engine";
import { rangeFilters, textFilter, uuidFilter } from "../list-query/filters";

const t = nodeTombstones;
/** The node tombstone list's field table. */
export const nodeTombstoneListSpec: ListSpec = {
  filters: {
    node_id: uuidFilter(sql`${t.nodeId}`, "Filter by node ID"),
    cluster_name: textFilter(sql`${t.clusterName}`, "Filter by the deleted node's cluster name (wildcards)"),
    hostname: textFilter(sql`${t.hostname}`, "Filter by the deleted node's hostname (wildcards)"),
    ...rangeFilters("inserted_at", sql`${t.insertedAt}`, "datetime"),
  },
  sortable: {
    inserted_at: sql`${t.insertedAt}`,
    cluster_name: sql`${t.clusterName}`,
    hostname: sql`${t.hostname}`,
  },
  defaultOrder: [{ field: "inserted_at", direction: "asc" }],
  tieBreaker: sql`${t.nodeId}`,
};
