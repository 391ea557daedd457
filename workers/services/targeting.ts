import { and, type SQL, sql } from "drizzle-orm";
import * as v from "valibot";
import { clusterListSpec } from "../../src/clusters/list";
import type { Database } from "../../src/db/client";
import { clusters, nodes } from "../../src/db/schema";
import { type FilterDef, integerFilter } from "../../src/list-query/filters";
import { nodeListSpec } from "../../src/nodes/list";
import { objectMessage } from "../../src/schemas/common";
import { ApiError } from "../errors";

// Targeting filters are the list filters of nodes and clusters, with the keys the seed lists:
// the same parsing and the same SQL, so `?status=healthy` and `{"status": "healthy"}` mean one thing.

function pick(filters: Record<string, FilterDef>, keys: readonly string[]): Record<string, FilterDef> {
  return Object.fromEntries(
    keys.map((key) => {
      if (!filters[key]) throw new Error(`list spec has no filter "${key}"`);
      return [key, filters[key]];
    }),
  );
}

const nodeCount = sql`(SELECT count(*) FROM ${nodes} WHERE ${nodes.clusterId} = ${clusters.id})`;

/** Keys of `targeting.node_filters` (seed: CommandCreateRequest). */
export const NODE_FILTERS = pick(nodeListSpec.filters, [
  "cluster_name",
  "id_type",
  "inserted_at__gte",
  "inserted_at__lte",
  "last_seen_at__gte",
  "last_seen_at__lte",
  "self_update_enabled",
  "status",
  "updated_at__gte",
  "updated_at__lte",
  "version",
]);

/** Keys of `targeting.cluster_filters` (seed: CommandCreateRequest). */
export const CLUSTER_FILTERS: Record<string, FilterDef> = {
  ...pick(clusterListSpec.filters, [
    "has_node_limit",
    "inserted_at__gte",
    "inserted_at__lte",
    "ipv4_range",
    "name",
    "node_count__gte",
    "node_count__lte",
    "updated_at__gte",
    "updated_at__lte",
  ]),
  node_count: integerFilter(nodeCount, "Filter by exact node count"),
};

/** A JSON filter value: the JSON type the filter's query parameter has, then the filter's own parser. */
function filterValue(def: FilterDef) {
  const base = def.enum
    ? v.picklist(def.enum as string[], `must be one of: ${def.enum.join(", ")}`)
    : def.type === "integer"
      ? v.pipe(v.number("must be an integer"), v.integer("must be an integer"))
      : def.type === "boolean"
        ? v.boolean("must be true or false")
        : v.string("must be a string");
  return v.optional(
    v.pipe(
      base as v.GenericSchema<unknown>,
      v.rawCheck(({ dataset, addIssue }) => {
        if (!dataset.typed) return;
        const parsed = def.parse(String(dataset.value));
        if ("error" in parsed) addIssue({ message: parsed.error });
      }),
      v.description(def.description),
    ),
  );
}

// objectMessage moved to src/schemas/common.ts (request schemas in src/ use it); re-exported for
// the command routes until they import it from there.
export { objectMessage };

function filtersSchema(filters: Record<string, FilterDef>, description: string) {
  const entries = Object.fromEntries(Object.entries(filters).map(([key, def]) => [key, filterValue(def)]));
  return v.optional(v.pipe(v.strictObject(entries, objectMessage), v.description(description)));
}

function listed(names: string[], max = 20): string {
  const shown = names.slice(0, max).join(", ");
  return names.length > max ? `${shown} (and ${names.length - max} more)` : shown;
}

function uniqueList<T extends v.GenericSchema<unknown, string>>(
  what: string,
  item: T,
  normalise = (s: string) => s,
) {
  return v.optional(
    v.pipe(
      v.array(item, `must be an array of ${what}s`),
      v.minLength(1, `must contain at least one ${what}`),
      v.transform((list) => [...new Set((list as string[]).map(normalise))]),
    ),
  );
}

const NodeIds = uniqueList("node id", v.pipe(v.string("must be a UUID"), v.uuid("must be a UUID")), (id) =>
  id.toLowerCase(),
);

const ClusterNames = uniqueList(
  "cluster name",
  v.pipe(v.string("must be a string"), v.minLength(1, "can't be blank")),
);

const TYPES = ["all", "nodes", "clusters"] as const;

function listMessage(type: string, input: { type: string }): string {
  return input.type === type
    ? `is required when type is "${type}"`
    : `is only allowed when type is "${type}"`;
}

/** `targeting` of CommandCreateRequest. Ids and names come out deduplicated; node ids lower-cased. */
export const TargetingSchema = v.pipe(
  v.strictObject(
    {
      type: v.pipe(
        v.picklist(TYPES, `must be one of: ${TYPES.join(", ")}`),
        v.description(
          "Targeting strategy: 'all' for all nodes, 'nodes' for specific nodes, 'clusters' for specific clusters",
        ),
      ),
      node_ids: v.pipe(
        NodeIds,
        v.description("Array of node IDs (required when type is 'nodes') (will always be deduplicated)"),
      ),
      cluster_names: v.pipe(
        ClusterNames,
        v.description(
          "Array of cluster names (required when type is 'clusters') (will always be deduplicated)",
        ),
      ),
      node_filters: filtersSchema(
        NODE_FILTERS,
        "Optional filters to apply to target nodes (AND logic with cluster_filters). Same semantics as the node list filters.",
      ),
      cluster_filters: filtersSchema(
        CLUSTER_FILTERS,
        "Optional filters to apply to target clusters (AND logic with node_filters). Same semantics as the cluster list filters.",
      ),
    },
    objectMessage,
  ),
  // Each list belongs to its type: required with it, refused without it.
  v.forward(
    v.partialCheck(
      [["type"], ["node_ids"]],
      (t) => (t.type === "nodes") === (t.node_ids !== undefined),
      (issue) => listMessage("nodes", issue.input),
    ),
    ["node_ids"],
  ),
  v.forward(
    v.partialCheck(
      [["type"], ["cluster_names"]],
      (t) => (t.type === "clusters") === (t.cluster_names !== undefined),
      (issue) => listMessage("clusters", issue.input),
    ),
    ["cluster_names"],
  ),
);

export interface Targeting {
  type: (typeof TYPES)[number];
  node_ids?: string[];
  cluster_names?: string[];
  node_filters?: Record<string, unknown>;
  cluster_filters?: Record<string, unknown>;
}

async function conditions(defs: Record<string, FilterDef>, values: Record<string, unknown> = {}) {
  const out: SQL[] = [];
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined) continue;
    const parsed = defs[key].parse(String(value));
    // Already checked by the schema; a failure here is a programming error.
    if ("error" in parsed) throw new Error(`targeting filter ${key}: ${parsed.error}`);
    out.push(await defs[key].toSql(parsed.value));
  }
  return out;
}

/**
 * Resolves a targeting to node ids (oldest node first) with one query: the
 * type's id or name set AND node filters AND cluster filters. Unknown node ids
 * or cluster names, and a targeting that matches nothing, are 422s.
 */
export async function resolveTargeting(db: Database, targeting: Targeting): Promise<string[]> {
  const filters = [
    ...(await conditions(NODE_FILTERS, targeting.node_filters)),
    ...(await conditions(CLUSTER_FILTERS, targeting.cluster_filters)),
  ];
  const where = filters.length > 0 ? and(...filters)! : sql`1`;
  // The filters go in the select list for nodes/clusters, so the same query also tells which ids exist.
  const matched = sql`CASE WHEN ${where} THEN 1 ELSE 0 END`;
  const order = sql`ORDER BY ${nodes.insertedAt}, ${nodes.id}`;
  let nodeIds: string[];

  if (targeting.type === "all") {
    const rows = await db.all<{ node_id: string }>(sql`
      SELECT ${nodes.id} AS node_id FROM ${nodes} INNER JOIN ${clusters} ON ${clusters.id} = ${nodes.clusterId}
      WHERE ${where} ${order}`);
    nodeIds = rows.map((r) => r.node_id);
  } else if (targeting.type === "nodes") {
    const wanted = targeting.node_ids!;
    const rows = await db.all<{ node_id: string; matched: number }>(sql`
      SELECT ${nodes.id} AS node_id, ${matched} AS matched
        FROM ${nodes} INNER JOIN ${clusters} ON ${clusters.id} = ${nodes.clusterId}
       WHERE ${nodes.id} IN (SELECT value FROM json_each(${JSON.stringify(wanted)})) ${order}`);
    const found = new Set(rows.map((r) => r.node_id));
    const unknown = wanted.filter((id) => !found.has(id));
    if (unknown.length > 0) {
      throw new ApiError("validation_failed", "Validation failed", {
        "targeting.node_ids": [`unknown node ids: ${listed(unknown)}`],
      });
    }
    nodeIds = rows.filter((r) => r.matched === 1).map((r) => r.node_id);
  } else {
    const wanted = targeting.cluster_names!;
    const rows = await db.all<{ cluster_name: string; node_id: string | null; matched: number }>(sql`
      SELECT ${clusters.name} AS cluster_name, ${nodes.id} AS node_id, ${matched} AS matched
        FROM ${clusters} LEFT JOIN ${nodes} ON ${nodes.clusterId} = ${clusters.id}
       WHERE ${clusters.name} IN (SELECT value FROM json_each(${JSON.stringify(wanted)})) ${order}`);
    const found = new Set(rows.map((r) => r.cluster_name));
    const unknown = wanted.filter((name) => !found.has(name));
    if (unknown.length > 0) {
      throw new ApiError("validation_failed", "Validation failed", {
        "targeting.cluster_names": [`unknown clusters: ${listed(unknown)}`],
      });
    }
    nodeIds = rows.filter((r) => r.node_id !== null && r.matched === 1).map((r) => r.node_id!);
  }

  if (nodeIds.length === 0) {
    throw new ApiError("validation_failed", "targeting matched no nodes", {
      targeting: ["matched no nodes; check the ids, names and filters"],
    });
  }
  return nodeIds;
}
