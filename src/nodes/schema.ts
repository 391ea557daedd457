import * as v from "valibot";
import { ClusterName } from "../clusters/schema";
import { DateTimeOutput, UuidOutput } from "../schemas/common";

const Port = v.pipe(v.number(), v.integer());

/** The contract's `NodeResponse` (plus `ipv4_address`, the node's address in its cluster range). */
export const NodeResponseSchema = v.pipe(
  v.object({
    api_token: v.string(),
    cluster_name: v.string(),
    host_metrics_port: Port,
    http_port: Port,
    http_proxy_port: Port,
    id: UuidOutput,
    id_type: v.picklist(["persistent", "random"]),
    inserted_at: DateTimeOutput,
    ipv4_address: v.nullable(v.string()),
    last_seen_at: v.nullable(DateTimeOutput),
    mdns_hostname: v.string(),
    netmaker_host_id: v.nullable(v.string()),
    node_name: v.string(),
    proxy_password: v.string(),
    self_update_enabled: v.boolean(),
    socks5_proxy_port: Port,
    ssh_port: Port,
    status: v.picklist(["healthy", "unhealthy", "unreachable"]),
    updated_at: DateTimeOutput,
    version: v.nullable(v.string()),
    vpn_hostname: v.string(),
    wireguard_metrics_port: Port,
  }),
  v.title("NodeResponse"),
);
export type NodeResponse = v.InferOutput<typeof NodeResponseSchema>;

/** The ports every node reports, as the response names them. */
export type NodePortFields = Pick<
  NodeResponse,
  | "http_port"
  | "http_proxy_port"
  | "socks5_proxy_port"
  | "ssh_port"
  | "host_metrics_port"
  | "wireguard_metrics_port"
>;

/** `PATCH /nodes/{id}`: the settable fields. */
export const NodeUpdateRequest = v.pipe(
  v.strictObject({ self_update_enabled: v.optional(v.boolean("must be true or false")) }),
  v.title("NodeUpdateRequest"),
);

/** The contract's `ChangeClusterRequest`. */
export const ChangeClusterRequest = v.pipe(
  v.strictObject({ cluster_name: ClusterName }),
  v.title("ChangeClusterRequest"),
);
