import { sql } from "drizzle-orm";
import { clusters, nodes } from "../db/schema";
import type { ListSpec } from "../list-query/engine";
import { integerFilter, presenceFilter, rangeFilters, textFilter } from "../list-query/filters";

const nodeCount = sql`(SELECT count(*) FROM ${nodes} WHERE ${nodes.clusterId} = ${clusters.id})`;

/** The cluster list's field table; command targeting reuses its filters as `cluster_filters`. */
export const clusterListSpec: ListSpec = {
  filters: {
    name: textFilter(
      sql`${clusters.name}`,
      "Filter by cluster name (exact match or wildcard: prod*, *tion, *rod*)",
    ),
    ipv4_range: textFilter(sql`${clusters.ipv4Range}`, "Filter by IPv4 range (exact match or wildcard)"),
    has_node_limit: presenceFilter(
      sql`${clusters.nodeLimit}`,
      "Filter by whether a node limit is set: true returns clusters with a limit, false returns unlimited",
    ),
    node_limit: integerFilter(sql`${clusters.nodeLimit}`, "Filter by exact node limit"),
    ...rangeFilters("node_limit", sql`${clusters.nodeLimit}`, "integer"),
    ...rangeFilters("node_count", nodeCount, "integer"),
    ...rangeFilters("inserted_at", sql`${clusters.insertedAt}`, "datetime"),
    ...rangeFilters("updated_at", sql`${clusters.updatedAt}`, "datetime"),
  },
  sortable: {
    name: sql`${clusters.name}`,
    ipv4_range: sql`${clusters.ipv4Start}`,
    node_limit: sql`${clusters.nodeLimit}`,
    node_count: nodeCount,
    inserted_at: sql`${clusters.insertedAt}`,
    updated_at: sql`${clusters.updatedAt}`,
  },
  defaultOrder: [{ field: "inserted_at", direction: "asc" }],
  tieBreaker: sql`${clusters.id}`,
};
