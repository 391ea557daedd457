import type { SQL } from "drizzle-orm";
import { type FilterDef, rangeFilters, textFilter, uuidFilter } from "./filters";

/** The columns a node-owned resource's list filters on. */
export interface NodeScopedColumns {
  clusterName: SQL;
  nodeId: SQL;
  insertedAt: SQL;
  updatedAt: SQL;
}

/** Wording the contract gives these filters differs per resource; the defaults are the SSH lists'. */
export interface NodeScopedDescriptions {
  cluster_name?: string;
  node_id?: string;
}

/**
 * The filters every list of node-owned records shares (aliases, SSH usernames, SSH public keys):
 * the owning node's cluster by name, the node by id, and the two timestamp ranges.
 * @example filters: { ...nodeScopedFilters({ clusterName: sql`${clusters.name}`, … }), name: textFilter(…) }
 */
export function nodeScopedFilters(
  columns: NodeScopedColumns,
  descriptions: NodeScopedDescriptions = {},
): Record<string, FilterDef> {
  return {
    cluster_name: textFilter(
      columns.clusterName,
      descriptions.cluster_name ??
        "Filter by cluster name via node's cluster (exact match or wildcard: prod, east, etc.)",
    ),
    node_id: uuidFilter(columns.nodeId, descriptions.node_id ?? "Filter by node ID"),
    ...rangeFilters("inserted_at", columns.insertedAt, "datetime"),
    ...rangeFilters("updated_at", columns.updatedAt, "datetime"),
  };
}
