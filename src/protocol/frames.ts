import * as v from "valibot";
import {
  InventoryAckFrame,
  InventoryChunkFrame,
  InventoryFrame,
  InventoryRequestFrame,
} from "./inventory-frames";
import {
  RpcFrame,
  RpcResultFrame,
  StreamCreditFrame,
  StreamDataFrame,
  StreamEndFrame,
  StreamStartFrame,
  StreamStopFrame,
} from "./rpc-frames";
import { STREAM_INTERVAL, SystemDetailSchema, SystemMetricsSchema } from "./system-metrics";

/**
 * The agent wire protocol: JSON text frames `{v: 1, type, …}` over the node's
 * WebSocket. One catalog, imported by the NodeSession Durable Object and the
 * agent, validated on send and on receive by both.
 */
export const PROTOCOL_VERSION = 1;

/** WebSocket close codes the server uses, so the agent can tell why it was dropped. */
export const CLOSE_CODES = {
  /** Another connection for the same node took over (possible clone). */
  replaced: 4000,
  /** The token is not (or no longer) valid. */
  unauthorized: 4001,
  /** The node was deleted; the agent must stop and not reconnect. */
  nodeDeleted: 4002,
  /** Too many invalid frames. */
  protocolError: 4003,
  /**
   * The server could not record what the agent said (its database writes kept failing): the agent
   * reconnects with backoff and says hello again, so its state converges once the database is back.
   * RFC 6455's "try again later".
   */
  tryAgainLater: 1013,
  /** The connection broke a limit (frames past the connection's rate); the agent reconnects with backoff. */
  policyViolation: 1008,
} as const;

/**
 * Free text an agent reads from the host (PRETTY_NAME, kernel release): any printable character,
 * non-ASCII included (a distribution may name itself so), but no control characters and no `<>`.
 */
export const AgentText = (max: number) =>
  v.pipe(
    v.string(),
    v.maxLength(max),
    v.regex(/^[^\p{Cc}<>]*$/u, "must be printable characters other than < and >"),
  );

/**
 * A fact an agent reports about itself (hostname, platform, arch, version): printable ASCII
 * without `<` or `>`, since the API and webhooks echo it to dashboards that may render it as HTML.
 * @example v.parse(AgentFact(255), "web-01") // "web-01"
 */
export const AgentFact = (max: number) =>
  v.pipe(
    v.string(),
    v.maxLength(max),
    v.regex(/^[\x20-\x3b\x3d\x3f-\x7e]*$/, "must be printable characters other than < and >"),
  );

const Id = v.pipe(v.string(), v.minLength(1), v.maxLength(128));
/** Execution ids are UUIDs the server minted: anything else is refused before it can cost a write. */
const ExecutionId = v.pipe(v.string(), v.uuid());
const Count = v.pipe(v.number(), v.integer(), v.minValue(0));
const Num = v.pipe(v.number(), v.finite());
const base = { v: v.literal(PROTOCOL_VERSION) };

/** Host metrics the agent reads each heartbeat (bytes, percent, seconds). */
export const HostMetricsSchema = v.object({
  cpu: v.object({ cores: Count, load_1m: Num, load_5m: Num, load_15m: Num, usage_percent: Num }),
  memory: v.object({ total_bytes: Count, available_bytes: Count, used_bytes: Count }),
  disk: v.object({ total_bytes: Count, available_bytes: Count, used_bytes: Count }),
  uptime_seconds: Count,
});
export type HostMetrics = v.InferOutput<typeof HostMetricsSchema>;

/** The agent's own counters since it started. */
export const AgentMetricsSchema = v.object({
  version: v.string(),
  uptime_seconds: Count,
  rss_bytes: Count,
  commands_run: Count,
  commands_failed: Count,
  reconnects: Count,
  frames_in: Count,
  frames_out: Count,
  errors: Count,
  ssh_verifications: v.optional(Count, 0),
});
export type AgentMetrics = v.InferOutput<typeof AgentMetricsSchema>;

/** Longest self-check name, message, and most checks per heartbeat: each heartbeat is kept as a sample. */
export const CHECK_LIMITS = { name: 64, message: 1024, count: 32 } as const;

/** A self-check result; any failing check makes the node `unhealthy`. */
export const CheckSchema = v.object({
  name: v.pipe(v.string(), v.minLength(1), v.maxLength(CHECK_LIMITS.name)),
  ok: v.boolean(),
  message: v.optional(v.pipe(v.string(), v.maxLength(CHECK_LIMITS.message))),
});

// ---- agent → server ----

export const HelloFrame = v.object({
  ...base,
  type: v.literal("hello"),
  agent_version: AgentFact(64),
  hostname: AgentFact(255),
  platform: AgentFact(64),
  arch: v.optional(AgentFact(32)),
  /** Machine facts (issue 18); optional so older agents still say hello. */
  os_version: v.optional(v.nullable(AgentText(255))),
  kernel: v.optional(v.nullable(AgentText(255))),
  primary_ip: v.optional(v.nullable(AgentFact(64))),
  boot_id: v.optional(v.nullable(AgentFact(64))),
  capabilities: v.optional(v.array(v.pipe(v.string(), v.maxLength(64))), []),
  /** How often this agent sends heartbeats; the server's staleness window follows it. */
  heartbeat_interval_seconds: v.optional(
    v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(3600)),
    15,
  ),
});

export const HeartbeatFrame = v.object({
  ...base,
  type: v.literal("heartbeat"),
  host: HostMetricsSchema,
  agent: AgentMetricsSchema,
  checks: v.optional(v.pipe(v.array(CheckSchema), v.maxLength(CHECK_LIMITS.count)), []),
  /** The fuller snapshot (`metrics_stream.v1` agents); older agents send only `host`. */
  system: v.optional(SystemMetricsSchema),
});

/** A sample taken for an open live stream (`metrics_stream`): fanned out, not stored. */
export const MetricsFrame = v.object({
  ...base,
  type: v.literal("metrics"),
  host: HostMetricsSchema,
  system: SystemMetricsSchema,
});

/** The detail sections, every `metrics_detail_interval_seconds` (kept as the node's latest). */
export const MetricsDetailFrame = v.object({
  ...base,
  type: v.literal("metrics_detail"),
  detail: SystemDetailSchema,
});

export const ResultFrame = v.object({
  ...base,
  type: v.literal("result"),
  execution_id: ExecutionId,
  exit_code: v.pipe(v.number(), v.integer()),
  output: v.string(),
  truncated: v.optional(v.boolean(), false),
  started_at: v.optional(Count),
  finished_at: v.optional(Count),
});

export const OutputFrame = v.object({
  ...base,
  type: v.literal("output"),
  execution_id: ExecutionId,
  seq: Count,
  chunk: v.string(),
});

/** The agent confirms it received an `exec` (before it runs it). */
export const AgentAckFrame = v.object({ ...base, type: v.literal("ack"), execution_id: ExecutionId });

/** Either side answers an invalid frame with this, and keeps the connection. */
export const ErrorFrame = v.object({
  ...base,
  type: v.literal("error"),
  code: v.string(),
  message: v.string(),
});

export const PingFrame = v.object({ ...base, type: v.literal("ping"), id: Id, sent_at: Count });
export const PongFrame = v.object({ ...base, type: v.literal("pong"), id: Id, sent_at: Count });

/** The agent saved a rotated token (`token_rotated`) in its state dir; the old one is gone for good. */
export const TokenStoredFrame = v.object({ ...base, type: v.literal("token_stored") });

export const AgentFrame = v.variant("type", [
  TokenStoredFrame,
  ErrorFrame,
  HelloFrame,
  HeartbeatFrame,
  MetricsFrame,
  MetricsDetailFrame,
  ResultFrame,
  OutputFrame,
  AgentAckFrame,
  PingFrame,
  PongFrame,
  InventoryFrame,
  InventoryChunkFrame,
  RpcResultFrame,
  StreamDataFrame,
  StreamEndFrame,
]);
export type AgentFrame = v.InferOutput<typeof AgentFrame>;

// ---- server → agent ----

export const ExecFrame = v.object({
  ...base,
  type: v.literal("exec"),
  execution_id: ExecutionId,
  command: v.string(),
  timeout_ms: v.nullable(Count),
});

export const CancelFrame = v.object({ ...base, type: v.literal("cancel"), execution_id: ExecutionId });

/** The server stored a result; the agent may forget it. */
export const ServerAckFrame = v.object({ ...base, type: v.literal("ack"), execution_id: ExecutionId });

export const ConfigFrame = v.object({
  ...base,
  type: v.literal("config"),
  node_id: Id,
  cluster_name: v.string(),
  heartbeat_interval_seconds: Count,
  /** How often the agent collects the detail sections (processes, containers, services, GPU). */
  metrics_detail_interval_seconds: v.optional(v.pipe(Count, v.minValue(10), v.maxValue(86_400))),
});

/**
 * Live metrics: while a stream is open the agent sends a `metrics` frame every `interval_seconds`;
 * `null` stops it (the last subscriber left).
 */
export const MetricsStreamFrame = v.object({
  ...base,
  type: v.literal("metrics_stream"),
  interval_seconds: v.nullable(
    v.pipe(Count, v.minValue(STREAM_INTERVAL.min), v.maxValue(STREAM_INTERVAL.max)),
  ),
});

export const SelfUpdateFrame = v.object({
  ...base,
  type: v.literal("self_update"),
  version: v.string(),
  url: v.string(),
  sha256: v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/)),
  /** Without it the agent refuses a version older than its own. */
  allow_downgrade: v.optional(v.boolean()),
});

/**
 * `PATCH /api/v1/nodes/{id}/rotate_token` issued a new token: the agent stores it in its state dir,
 * then answers `token_stored`. The open socket stays; the next connect uses the new token.
 */
export const TokenRotatedFrame = v.object({
  ...base,
  type: v.literal("token_rotated"),
  api_token: v.pipe(v.string(), v.minLength(1), v.maxLength(512)),
});

export const ServerFrame = v.variant("type", [
  TokenRotatedFrame,
  ExecFrame,
  CancelFrame,
  ServerAckFrame,
  ConfigFrame,
  MetricsStreamFrame,
  SelfUpdateFrame,
  ErrorFrame,
  PingFrame,
  PongFrame,
  InventoryRequestFrame,
  InventoryAckFrame,
  RpcFrame,
  StreamStartFrame,
  StreamCreditFrame,
  StreamStopFrame,
]);
export type ServerFrame = v.InferOutput<typeof ServerFrame>;

/** A frame as code writes it: without `v`, which encoding adds. */
export type Outgoing<T> = T extends unknown ? Omit<T, "v"> : never;

/** Parses a text frame against a catalog; returns the frame or a readable error. */
function parseWith<S extends v.GenericSchema>(
  schema: S,
  text: string,
): { frame: v.InferOutput<S> } | { error: string } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { error: "frame is not valid JSON" };
  }
  const result = v.safeParse(schema, json);
  if (result.success) return { frame: result.output };
  const issue = result.issues[0];
  const path = issue.path?.map((p) => String(p.key)).join(".");
  return { error: `invalid frame${path ? ` at ${path}` : ""}: ${issue.message}` };
}

/** Parses a frame the server received from an agent. */
export function parseAgentFrame(text: string) {
  return parseWith(AgentFrame, text);
}

/** Parses a frame the agent received from the server. */
export function parseServerFrame(text: string) {
  return parseWith(ServerFrame, text);
}

/** Serialises a server → agent frame, validating it first so a bug can't put a bad frame on the wire. */
export function encodeServerFrame(frame: Outgoing<ServerFrame>): string {
  return JSON.stringify(v.parse(ServerFrame, { v: PROTOCOL_VERSION, ...frame }));
}

/** Serialises an agent → server frame, validating it first. */
export function encodeAgentFrame(frame: Outgoing<AgentFrame>): string {
  return JSON.stringify(v.parse(AgentFrame, { v: PROTOCOL_VERSION, ...frame }));
}
