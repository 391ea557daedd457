import { sql } from "drizzle-orm";
import { aliases, clusters } from "../db/schema";
import type { ListSpec } from "../list-query/engine";
import { textFilter } from "../list-query/filters";
import { nodeScopedFilters } from "../list-query/node-scoped";

/** The alias list's field table (rows are aliases joined to their cluster). */
export const aliasListSpec: ListSpec = {
  filters: {
    ...nodeScopedFilters(
      {
        clusterName: sql`${clusters.name}`,
        nodeId: sql`${aliases.nodeId}`,
        insertedAt: sql`${aliases.insertedAt}`,
        updatedAt: sql`${aliases.updatedAt}`,
      },
      {
        cluster_name: "Filter by cluster name (exact match or wildcard)",
        node_id: "Filter by node ID (exact match UUID)",
      },
    ),
    name: textFilter(sql`${aliases.name}`, "Filter by alias name (exact match or wildcard)"),
  },
  sortable: {
    name: sql`${aliases.name}`,
    cluster_name: sql`${clusters.name}`,
    inserted_at: sql`${aliases.insertedAt}`,
    updated_at: sql`${aliases.updatedAt}`,
  },
  defaultOrder: [{ field: "inserted_at", direction: "asc" }],
  tieBreaker: sql`${aliases.id}`,
};
