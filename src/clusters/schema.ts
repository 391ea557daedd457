import * as v from "valibot";
import { DateTimeOutput, UuidOutput } from "../schemas/common";

/** A cluster's name as clients write it: lowercase DNS label, at most 24 characters. */
export const ClusterName = v.pipe(
  v.string("must be a string"),
  v.minLength(1, "can't be blank"),
  v.maxLength(24, "must be at most 24 characters"),
  v.regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, "must be lowercase alphanumeric with inner hyphens"),
);

const NodeLimit = v.nullable(
  v.pipe(
    v.number("must be an integer"),
    v.integer("must be an integer"),
    v.minValue(1, "must be greater than or equal to 1"),
  ),
);

/** A cluster's own `metrics_detail_interval_seconds` (null: the server's default). */
const MetricsDetailInterval = v.nullable(
  v.pipe(
    v.number("must be an integer"),
    v.integer("must be an integer"),
    v.minValue(10, "must be greater than or equal to 10"),
    v.maxValue(86_400, "must be less than or equal to 86400"),
    v.description(
      "How often this cluster's agents collect the detail sections (top processes, containers, services, GPU); null = METRICS_DETAIL_INTERVAL_SECONDS. Beyond the contract.",
    ),
  ),
);

/** The contract's `ClusterCreateRequest`, plus the cluster's metrics detail interval. */
export const ClusterCreateRequest = v.pipe(
  v.strictObject({
    name: v.pipe(
      ClusterName,
      v.check((name) => name !== "default", 'is reserved ("default" names the default cluster in URLs)'),
    ),
    ipv4_range: v.optional(
      v.nullable(
        v.pipe(
          v.string("must be a string"),
          v.description("IPv4 CIDR range (auto-generated if not provided)"),
        ),
      ),
    ),
    node_limit: v.optional(NodeLimit),
    metrics_detail_interval_seconds: v.optional(MetricsDetailInterval),
  }),
  v.title("ClusterCreateRequest"),
);
export type ClusterCreateInput = v.InferOutput<typeof ClusterCreateRequest>;

/** The contract's `ClusterUpdateRequest`, plus the cluster's metrics detail interval. */
export const ClusterUpdateRequest = v.pipe(
  v.strictObject({
    node_limit: v.optional(NodeLimit),
    metrics_detail_interval_seconds: v.optional(MetricsDetailInterval),
  }),
  v.title("ClusterUpdateRequest"),
);

/** The contract's `NodeSummary`: a member node as a cluster lists it. */
export const NodeSummarySchema = v.object({
  id: v.string(),
  id_type: v.string(),
  status: v.string(),
  vpn_hostname: v.string(),
});

/** The contract's `ClusterResponse`. */
export const ClusterResponseSchema = v.pipe(
  v.object({
    id: UuidOutput,
    inserted_at: DateTimeOutput,
    ipv4_range: v.string(),
    name: v.string(),
    network_name: v.string(),
    node_count: v.pipe(v.number(), v.integer()),
    node_limit: v.nullable(v.pipe(v.number(), v.integer())),
    /** Beyond the contract: null = the server's default. */
    metrics_detail_interval_seconds: v.nullable(v.pipe(v.number(), v.integer())),
    nodes: v.array(NodeSummarySchema),
    updated_at: DateTimeOutput,
    vpn_domain: v.string(),
  }),
  v.title("ClusterResponse"),
);
export type ClusterResponse = v.InferOutput<typeof ClusterResponseSchema>;
