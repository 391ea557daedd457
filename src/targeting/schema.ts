import { sql } from "drizzle-orm";
import * as v from "valibot";
import { clusterListSpec } from "../clusters/list";
import { clusters, nodes } from "../db/schema";
import { type FilterDef, integerFilter } from "../list-query/filters";
import { nodeListSpec } from "../nodes/list";
import { objectMessage } from "../schemas/common";

// What a command's (or self-update request's) `targeting` is. Its filters are the list filters of
// nodes and clusters, with the keys the contract lists: the same parsing and the same SQL, so
// `?status=healthy` and `{"status": "healthy"}` mean one thing.

function pick(filters: Record<string, FilterDef>, keys: readonly string[]): Record<string, FilterDef> {
  return Object.fromEntries(
    keys.map((key) => {
      if (!filters[key]) throw new Error(`list spec has no filter "${key}"`);
      return [key, filters[key]];
    }),
  );
}

const nodeCount = sql`(SELECT count(*) FROM ${nodes} WHERE ${nodes.clusterId} = ${clusters.id})`;

/** Keys of `targeting.node_filters` (the Edge Admin contract: CommandCreateRequest). */
export const NODE_FILTERS = pick(nodeListSpec.filters, [
  "cluster_name",
  "hostname",
  "id_type",
  "inserted_at__gte",
  "inserted_at__lte",
  "last_seen_at__gte",
  "last_seen_at__lte",
  "self_update_enabled",
  "status",
  "tags",
  "updated_at__gte",
  "updated_at__lte",
  "version",
]);

/** Keys of `targeting.cluster_filters` (the Edge Admin contract: CommandCreateRequest). */
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

function filtersSchema(filters: Record<string, FilterDef>, description: string) {
  const entries = Object.fromEntries(Object.entries(filters).map(([key, def]) => [key, filterValue(def)]));
  return v.optional(v.pipe(v.strictObject(entries, objectMessage), v.description(description)));
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

const Hostnames = uniqueList(
  "hostname",
  v.pipe(v.string("must be a string"), v.minLength(1, "can't be blank"), v.maxLength(253, "is too long")),
  (name) => name.toLowerCase(),
);

/** Targeting types: the contract's three, and `hostnames` (beyond the contract). */
export const TARGETING_TYPES = ["all", "nodes", "clusters", "hostnames"] as const;
const TYPES = TARGETING_TYPES;

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
          "Targeting strategy: 'all' for all nodes, 'nodes' for specific nodes, 'clusters' for specific clusters, 'hostnames' (beyond the contract) for nodes by hostname",
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
      hostnames: v.pipe(
        Hostnames,
        v.description(
          "Beyond the contract: hostnames, matched case-insensitively (required when type is 'hostnames'). A hostname shared by several nodes targets all of them; one that matches no node is skipped; both are reported in `meta.warnings`",
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
  v.forward(
    v.partialCheck(
      [["type"], ["hostnames"]],
      (t) => (t.type === "hostnames") === (t.hostnames !== undefined),
      (issue) => listMessage("hostnames", issue.input),
    ),
    ["hostnames"],
  ),
);

/** A targeting as a command or self-update request stores it (ids and names deduplicated). */
export interface Targeting {
  type: (typeof TYPES)[number];
  node_ids?: string[];
  cluster_names?: string[];
  hostnames?: string[];
  node_filters?: Record<string, unknown>;
  cluster_filters?: Record<string, unknown>;
}

type Fits<T extends Targeting> = T;
/** The schema's output; declared through `Fits` so a drift from `Targeting` fails to compile. */
export type TargetingOutput = Fits<v.InferOutput<typeof TargetingSchema>>;
