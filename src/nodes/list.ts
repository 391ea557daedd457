import { sql } from "drizzle-orm";
import { clusters, nodes } from "../db/schema";
import type { ListSpec } from "../list-query/engine";
import {
  booleanFilter,
  enumFilter,
  numberRangeFilters,
  rangeFilters,
  textFilter,
} from "../list-query/filters";
import { nodeFactFilters } from "./fact-filters";

/** The node list's field table; command targeting reuses its filters as `node_filters`. */
export const nodeListSpec: ListSpec = {
  filters: {
    cluster_name: textFilter(
      sql`${clusters.name}`,
      "Filter by cluster name (exact match or wildcard: prod*, *east)",
    ),
    id_type: enumFilter(sql`${nodes.idType}`, ["persistent", "random"], "Filter by node ID type"),
    status: enumFilter(
      sql`${nodes.status}`,
      ["healthy", "unhealthy", "unreachable"],
      "Filter by node status",
    ),
    version: textFilter(
      sql`${nodes.version}`,
      "Filter by agent version (exact match or wildcard: 1.0.0, 1.*)",
    ),
    self_update_enabled: booleanFilter(
      "Filter by self-update enabled status",
      (on) => sql`${nodes.selfUpdateEnabled} = ${on ? 1 : 0}`,
    ),
    ...rangeFilters("inserted_at", sql`${nodes.insertedAt}`, "datetime"),
    ...rangeFilters("updated_at", sql`${nodes.updatedAt}`, "datetime"),
    ...rangeFilters("last_seen_at", sql`${nodes.lastSeenAt}`, "datetime"),
    ...nodeFactFilters,
    // The latest metrics, kept in libSQL at most once a minute per node (docs/metrics.md).
    ...numberRangeFilters("cpu_usage_percent", sql`${nodes.cpuUsagePercent}`, "latest CPU usage (percent)"),
    ...numberRangeFilters(
      "memory_usage_percent",
      sql`${nodes.memoryUsagePercent}`,
      "latest memory usage (percent)",
    ),
    ...numberRangeFilters(
      "disk_usage_percent",
      sql`${nodes.diskUsagePercent}`,
      "latest root disk usage (percent)",
    ),
    ...numberRangeFilters("load_1m", sql`${nodes.load1m}`, "latest 1-minute load average"),
  },
  sortable: {
    inserted_at: sql`${nodes.insertedAt}`,
    updated_at: sql`${nodes.updatedAt}`,
    last_seen_at: sql`${nodes.lastSeenAt}`,
    status: sql`${nodes.status}`,
    version: sql`${nodes.version}`,
    cluster_name: sql`${clusters.name}`,
    id_type: sql`${nodes.idType}`,
    node_name: sql`${nodes.nodeName}`,
    hostname: sql`${nodes.hostname}`,
    display_name: sql`${nodes.displayName}`,
    cpu_usage_percent: sql`${nodes.cpuUsagePercent}`,
    memory_usage_percent: sql`${nodes.memoryUsagePercent}`,
    disk_usage_percent: sql`${nodes.diskUsagePercent}`,
    load_1m: sql`${nodes.load1m}`,
  },
  defaultOrder: [{ field: "inserted_at", direction: "asc" }],
  tieBreaker: sql`${nodes.id}`,
};
