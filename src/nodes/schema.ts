import * as v from "valibot";
import { ClusterName } from "../clusters/schema";
import { DateTimeOutput, UuidOutput } from "../schemas/common";
import { NodeMetadataFields } from "./metadata";

const Port = v.pipe(v.number(), v.integer());

const fact = (description: string) => v.pipe(v.nullable(v.string()), v.description(description));

// Extension fields (issue 18): what the agent reports about its machine, read-only, and the
// operator's own fields, settable with PATCH.
const NodeFactFields = {
  hostname: fact("Hostname the agent reported (not unique across the fleet)"),
  platform: fact("Operating system family reported by the agent (`linux`)"),
  arch: fact("CPU architecture reported by the agent (`x64`, `arm64`)"),
  os_version: fact("PRETTY_NAME of /etc/os-release, e.g. `Ubuntu 22.04.4 LTS`"),
  kernel: fact("Kernel release (`uname -r`)"),
  primary_ip: fact("Address of the interface that holds the default route (the host's LAN address)"),
  boot_id: fact("/proc/sys/kernel/random/boot_id; changes with every boot"),
  display_name: fact("Free-text name set by an operator (≤ 128, not unique)"),
  tags: v.pipe(v.array(v.string()), v.description("Operator tags, lower case, deduplicated")),
  notes: fact("Operator notes (≤ 10,000 characters)"),
  custom_urls: v.pipe(
    v.array(v.object({ name: v.string(), url: v.string() })),
    v.description("Operator links (≤ 20, http/https)"),
  ),
};

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
    ...NodeFactFields,
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
  v.strictObject({
    self_update_enabled: v.optional(v.boolean("must be true or false")),
    ...NodeMetadataFields,
  }),
  v.title("NodeUpdateRequest"),
);

/** The contract's `ChangeClusterRequest`. */
export const ChangeClusterRequest = v.pipe(
  v.strictObject({ cluster_name: ClusterName }),
  v.title("ChangeClusterRequest"),
);
