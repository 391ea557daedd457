import * as v from "valibot";
import { DateTimeOutput, UuidOutput } from "../schemas/common";

// The contract's node metrics. Host metrics follow it field by field. Agent metrics keep its keys;
// what sits under them is what the Outpost agent measures (its own counters rather than BEAM stats),
// and the sources it does not have (discovery, Oban queues, proxy, VPN) are null, which the contract allows.

const Integer = v.pipe(v.number(), v.integer());

const Cpu = v.pipe(
  v.object({
    cores: Integer,
    load_1m: v.number(),
    load_5m: v.number(),
    load_15m: v.number(),
    usage_percent: v.number(),
  }),
  v.description("CPU cores and load averages"),
);

const Storage = v.object({
  available_bytes: Integer,
  available_gb: v.number(),
  total_bytes: Integer,
  total_gb: v.number(),
  usage_percent: v.number(),
  used_bytes: Integer,
  used_gb: v.number(),
});

const Uptime = v.pipe(
  v.object({ human: v.pipe(v.string(), v.description("e.g. 1d 1h 1m")), seconds: Integer }),
  v.description("Time since the host booted"),
);

const hostParts = {
  cpu: Cpu,
  disk: v.pipe(Storage, v.description("Root filesystem")),
  memory: v.pipe(Storage, v.description("Physical memory")),
  uptime: Uptime,
};

const nodeParts = {
  cluster_name: v.pipe(v.string(), v.description("Name of the cluster this node belongs to")),
  node_id: UuidOutput,
  timestamp: v.pipe(DateTimeOutput, v.description("When the metrics were collected (the latest heartbeat)")),
};

/** The contract's `HostMetricsResponse`: a bare object, not wrapped in `{data, meta}`. */
export const HostMetricsResponseSchema = v.pipe(
  v.object({ ...nodeParts, ...hostParts }),
  v.title("HostMetricsResponse"),
);
export type HostMetricsResponse = v.InferOutput<typeof HostMetricsResponseSchema>;

const NotCollected = v.pipe(v.null(), v.description("Not collected by the Outpost agent (always null)"));

const agentParts = {
  application: v.pipe(
    v.object({
      version: v.string(),
      uptime_seconds: Integer,
      rss_bytes: Integer,
      reconnects: Integer,
      frames_in: Integer,
      frames_out: Integer,
      errors: Integer,
    }),
    v.description("The agent process: version, uptime, resident memory and connection counters"),
  ),
  commands: v.pipe(
    v.object({ run: Integer, failed: Integer }),
    v.description("Commands run since the agent started"),
  ),
  discovery: NotCollected,
  health_check: v.pipe(
    v.object({
      status: v.picklist(["passing", "failing"]),
      checks: v.array(v.object({ name: v.string(), ok: v.boolean(), message: v.optional(v.string()) })),
    }),
    v.description("The agent's self-checks; one failing check makes the node unhealthy"),
  ),
  oban_queues: NotCollected,
  proxy: NotCollected,
  ssh: v.pipe(v.object({ verifications: Integer }), v.description("SSH logins verified through the gateway")),
  vpn: NotCollected,
};

/** The `data` of the contract's `AgentMetricsResponse`. */
export const AgentMetricsSchema = v.pipe(v.object({ ...nodeParts, ...agentParts }), v.title("AgentMetrics"));
export type AgentMetrics = v.InferOutput<typeof AgentMetricsSchema>;

/** The `data` of the contract's `UnifiedMetricsResponse`: host and agent parts, each marked available. */
export const UnifiedMetricsSchema = v.pipe(
  v.object({
    ...nodeParts,
    host: v.pipe(
      v.object({ available: v.boolean(), ...hostParts }),
      v.description("Host-level metrics from the latest heartbeat"),
    ),
    agent: v.pipe(
      v.object({ available: v.boolean(), ...agentParts }),
      v.description("The agent's own metrics from the latest heartbeat"),
    ),
  }),
  v.title("UnifiedMetrics"),
);
export type UnifiedMetrics = v.InferOutput<typeof UnifiedMetricsSchema>;
