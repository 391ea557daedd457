import { sql } from "drizzle-orm";
import { commandExecutions as ce, clusters, EXECUTION_STATUSES, nodes } from "../db/schema";
import type { ListSpec } from "../list-query/engine";
import {
  booleanFilter,
  enumFilter,
  type FilterDef,
  integerFilter,
  presenceFilter,
  rangeFilters,
  textFilter,
  uuidFilter,
} from "../list-query/filters";

// The node's current cluster, matched through the nodes index rather than row by row.
const nodeCluster = textFilter(
  sql`${clusters.name}`,
  "Filter by cluster name via node's cluster (exact match or wildcard: prod, staging*, etc.)",
);
const clusterNameFilter: FilterDef = {
  ...nodeCluster,
  toSql: async (value: string) =>
    sql`${ce.nodeId} IN (SELECT ${nodes.id} FROM ${nodes} INNER JOIN ${clusters} ON ${clusters.id} = ${nodes.clusterId} WHERE ${await nodeCluster.toSql(value)})`,
};

/** The execution list's field table. */
export const executionListSpec: ListSpec = {
  filters: {
    cluster_name: clusterNameFilter,
    command_id: uuidFilter(sql`${ce.commandId}`, "Filter by command ID"),
    node_id: uuidFilter(sql`${ce.nodeId}`, "Filter by node ID"),
    status: enumFilter(sql`${ce.status}`, EXECUTION_STATUSES, "Filter by execution status"),
    exit_code: integerFilter(sql`${ce.exitCode}`, "Filter by exact exit code"),
    ...rangeFilters(
      "exit_code",
      sql`${ce.exitCode}`,
      "integer",
      "exit code (e.g. exit_code__gte=1 for all failures)",
    ),
    output: textFilter(
      sql`${ce.output}`,
      "Text search in output (exact match or wildcard: error, *failed*, etc.; case-sensitive)",
    ),
    has_output: booleanFilter(
      "Filter by whether output is present: true returns executions with output, false returns executions with no output",
      (has) =>
        has
          ? sql`(${ce.output} IS NOT NULL AND ${ce.output} <> '')`
          : sql`(${ce.output} IS NULL OR ${ce.output} = '')`,
    ),
    has_cluster: presenceFilter(
      sql`${ce.clusterName}`,
      "Filter by cluster presence (true = executions created by single-cluster targeting, false = the others)",
    ),
    target_all: booleanFilter("Filter by target_all flag", (on) => sql`${ce.targetAll} = ${on ? 1 : 0}`),
    ...rangeFilters("inserted_at", sql`${ce.insertedAt}`, "datetime"),
    ...rangeFilters("updated_at", sql`${ce.updatedAt}`, "datetime"),
    ...rangeFilters("sent_at", sql`${ce.sentAt}`, "datetime"),
    ...rangeFilters("completed_at", sql`${ce.completedAt}`, "datetime"),
    ...rangeFilters("cancelled_at", sql`${ce.cancelledAt}`, "datetime"),
  },
  sortable: {
    inserted_at: sql`${ce.insertedAt}`,
    updated_at: sql`${ce.updatedAt}`,
    sent_at: sql`${ce.sentAt}`,
    completed_at: sql`${ce.completedAt}`,
    cancelled_at: sql`${ce.cancelledAt}`,
    status: sql`${ce.status}`,
    exit_code: sql`${ce.exitCode}`,
    node_id: sql`${ce.nodeId}`,
    command_id: sql`${ce.commandId}`,
    cluster_name: sql`${ce.clusterName}`,
  },
  defaultOrder: [{ field: "inserted_at", direction: "asc" }],
  tieBreaker: sql`${ce.id}`,
};
