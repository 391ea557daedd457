import * as v from "valibot";
import {
  InventoryAckFrame,
  InventoryChunkFrame,
  InventoryFrame,
  InventoryRequestFrame,
  inventoryAckFrame,
  inventoryChunkFrame,
  inventoryFrame,
  inventoryRequestFrame,
} from "./inventory-frames";
import { boundedId, count, finiteNumber, PROTOCOL_VERSION, versionEntries } from "./primitives";
import {
  RpcFrame,
  RpcResultFrame,
  rpcFrame,
  rpcResultFrame,
  StreamCreditFrame,
  StreamDataFrame,
  StreamEndFrame,
  StreamStartFrame,
  StreamStopFrame,
  streamCreditFrame,
  streamDataFrame,
  streamEndFrame,
  streamStartFrame,
  streamStopFrame,
} from "./rpc-frames";
import { STREAM_INTERVAL, systemDetailSchema, systemMetricsSchema } from "./system-metrics";

// Each schema is built by a function, and the exported constant is that function's result, marked
// pure: the server uses the constants (built once), while the agent builds only the schema a frame
// needs when it needs it, and esbuild drops the unused constants from the agent's bundle, so an idle
// agent holds no schema (issue 25, docs/agent-footprint.md).

/**
 * The agent wire protocol: JSON text frames `{v: 1, type, …}` over the node's
 * WebSocket. One catalog, imported by the NodeSession Durable Object and the
 * agent, validated on send and on receive by both.
 */
export { PROTOCOL_VERSION };

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

/** Execution ids are UUIDs the server minted: anything else is refused before it can cost a write. */
const executionId = () => v.pipe(v.string(), v.uuid());

/** Host metrics the agent reads each heartbeat (bytes, percent, seconds). */
const hostMetricsSchema = () =>
  v.object({
    cpu: v.object({
      cores: count(),
      load_1m: finiteNumber(),
      load_5m: finiteNumber(),
      load_15m: finiteNumber(),
      usage_percent: finiteNumber(),
    }),
    memory: v.object({ total_bytes: count(), available_bytes: count(), used_bytes: count() }),
    disk: v.object({ total_bytes: count(), available_bytes: count(), used_bytes: count() }),
    uptime_seconds: count(),
  });
export const HostMetricsSchema = /* @__PURE__ */ hostMetricsSchema();
export type HostMetrics = v.InferOutput<typeof HostMetricsSchema>;

/** The agent's own counters since it started. */
const agentMetricsSchema = () =>
  v.object({
    version: v.string(),
    uptime_seconds: count(),
    rss_bytes: count(),
    commands_run: count(),
    commands_failed: count(),
    reconnects: count(),
    frames_in: count(),
    frames_out: count(),
    errors: count(),
    ssh_verifications: v.optional(count(), 0),
  });
export const AgentMetricsSchema = /* @__PURE__ */ agentMetricsSchema();
export type AgentMetrics = v.InferOutput<typeof AgentMetricsSchema>;

/** Longest self-check name, message, and most checks per heartbeat: each heartbeat is kept as a sample. */
export const CHECK_LIMITS = { name: 64, message: 1024, count: 32 } as const;

/** A self-check result; any failing check makes the node `unhealthy`. */
const checkSchema = () =>
  v.object({
    name: v.pipe(v.string(), v.minLength(1), v.maxLength(CHECK_LIMITS.name)),
    ok: v.boolean(),
    message: v.optional(v.pipe(v.string(), v.maxLength(CHECK_LIMITS.message))),
  });

// ---- agent → server ----

const helloFrame = () =>
  v.object({
    ...versionEntries(),
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
export const HelloFrame = /* @__PURE__ */ helloFrame();

const heartbeatFrame = () =>
  v.object({
    ...versionEntries(),
    type: v.literal("heartbeat"),
    host: hostMetricsSchema(),
    agent: agentMetricsSchema(),
    checks: v.optional(v.pipe(v.array(checkSchema()), v.maxLength(CHECK_LIMITS.count)), []),
    /** The fuller snapshot (`metrics_stream.v1` agents); older agents send only `host`. */
    system: v.optional(systemMetricsSchema()),
  });
export const HeartbeatFrame = /* @__PURE__ */ heartbeatFrame();

/** A sample taken for an open live stream (`metrics_stream`): fanned out, not stored. */
const metricsFrame = () =>
  v.object({
    ...versionEntries(),
    type: v.literal("metrics"),
    host: hostMetricsSchema(),
    system: systemMetricsSchema(),
  });
export const MetricsFrame = /* @__PURE__ */ metricsFrame();

/** The detail sections, every `metrics_detail_interval_seconds` (kept as the node's latest). */
const metricsDetailFrame = () =>
  v.object({
    ...versionEntries(),
    type: v.literal("metrics_detail"),
    detail: systemDetailSchema(),
  });
export const MetricsDetailFrame = /* @__PURE__ */ metricsDetailFrame();

const resultFrame = () =>
  v.object({
    ...versionEntries(),
    type: v.literal("result"),
    execution_id: executionId(),
    exit_code: v.pipe(v.number(), v.integer()),
    output: v.string(),
    truncated: v.optional(v.boolean(), false),
    started_at: v.optional(count()),
    finished_at: v.optional(count()),
  });
export const ResultFrame = /* @__PURE__ */ resultFrame();

const outputFrame = () =>
  v.object({
    ...versionEntries(),
    type: v.literal("output"),
    execution_id: executionId(),
    seq: count(),
    chunk: v.string(),
  });
export const OutputFrame = /* @__PURE__ */ outputFrame();

/** The agent confirms it received an `exec` (before it runs it). */
const agentAckFrame = () =>
  v.object({ ...versionEntries(), type: v.literal("ack"), execution_id: executionId() });
export const AgentAckFrame = /* @__PURE__ */ agentAckFrame();

/** Either side answers an invalid frame with this, and keeps the connection. */
const errorFrame = () =>
  v.object({
    ...versionEntries(),
    type: v.literal("error"),
    code: v.string(),
    message: v.string(),
  });
export const ErrorFrame = /* @__PURE__ */ errorFrame();

const pingFrame = () =>
  v.object({ ...versionEntries(), type: v.literal("ping"), id: boundedId(), sent_at: count() });
export const PingFrame = /* @__PURE__ */ pingFrame();
const pongFrame = () =>
  v.object({ ...versionEntries(), type: v.literal("pong"), id: boundedId(), sent_at: count() });
export const PongFrame = /* @__PURE__ */ pongFrame();

/** The agent saved a rotated token (`token_rotated`) in its state dir; the old one is gone for good. */
const tokenStoredFrame = () => v.object({ ...versionEntries(), type: v.literal("token_stored") });
export const TokenStoredFrame = /* @__PURE__ */ tokenStoredFrame();

export const AgentFrame = /* @__PURE__ */ v.variant("type", [
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
  StreamCreditFrame,
  StreamEndFrame,
]);
export type AgentFrame = v.InferOutput<typeof AgentFrame>;

// ---- server → agent ----

const execFrame = () =>
  v.object({
    ...versionEntries(),
    type: v.literal("exec"),
    execution_id: executionId(),
    command: v.string(),
    timeout_ms: v.nullable(count()),
  });
export const ExecFrame = /* @__PURE__ */ execFrame();

const cancelFrame = () =>
  v.object({ ...versionEntries(), type: v.literal("cancel"), execution_id: executionId() });
export const CancelFrame = /* @__PURE__ */ cancelFrame();

/** The server stored a result; the agent may forget it. */
const serverAckFrame = () =>
  v.object({ ...versionEntries(), type: v.literal("ack"), execution_id: executionId() });
export const ServerAckFrame = /* @__PURE__ */ serverAckFrame();

const configFrame = () =>
  v.object({
    ...versionEntries(),
    type: v.literal("config"),
    node_id: boundedId(),
    cluster_name: v.string(),
    heartbeat_interval_seconds: count(),
    /** How often the agent collects the detail sections (processes, containers, services, GPU). */
    metrics_detail_interval_seconds: v.optional(v.pipe(count(), v.minValue(10), v.maxValue(86_400))),
  });
export const ConfigFrame = /* @__PURE__ */ configFrame();

/**
 * Live metrics: while a stream is open the agent sends a `metrics` frame every `interval_seconds`;
 * `null` stops it (the last subscriber left).
 */
const metricsStreamFrame = () =>
  v.object({
    ...versionEntries(),
    type: v.literal("metrics_stream"),
    interval_seconds: v.nullable(
      v.pipe(count(), v.minValue(STREAM_INTERVAL.min), v.maxValue(STREAM_INTERVAL.max)),
    ),
  });
export const MetricsStreamFrame = /* @__PURE__ */ metricsStreamFrame();

const selfUpdateFrame = () =>
  v.object({
    ...versionEntries(),
    type: v.literal("self_update"),
    version: v.string(),
    url: v.string(),
    sha256: v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/)),
    /** Without it the agent refuses a version older than its own. */
    allow_downgrade: v.optional(v.boolean()),
  });
export const SelfUpdateFrame = /* @__PURE__ */ selfUpdateFrame();

/**
 * `PATCH /api/v1/nodes/{id}/rotate_token` issued a new token: the agent stores it in its state dir,
 * then answers `token_stored`. The open socket stays; the next connect uses the new token.
 */
const tokenRotatedFrame = () =>
  v.object({
    ...versionEntries(),
    type: v.literal("token_rotated"),
    api_token: v.pipe(v.string(), v.minLength(1), v.maxLength(512)),
  });
export const TokenRotatedFrame = /* @__PURE__ */ tokenRotatedFrame();

export const ServerFrame = /* @__PURE__ */ v.variant("type", [
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
  StreamDataFrame,
  StreamStopFrame,
]);
export type ServerFrame = v.InferOutput<typeof ServerFrame>;

/** A frame as code writes it: without `v`, which encoding adds. */
export type Outgoing<T> = T extends unknown ? Omit<T, "v"> : never;

/** Parses a text frame against a catalog; returns the frame or a readable error. */
function parseWith<S extends v.GenericSchema>(
  schema: S | ((json: unknown) => S),
  text: string,
): { frame: v.InferOutput<S> } | { error: string } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { error: "frame is not valid JSON" };
  }
  const result = v.safeParse(typeof schema === "function" ? schema(json) : schema, json);
  if (result.success) return { frame: result.output };
  const issue = result.issues[0];
  const path = issue.path?.map((p) => String(p.key)).join(".");
  return { error: `invalid frame${path ? ` at ${path}` : ""}: ${issue.message}` };
}

/**
 * Each frame type's schema factory, for the agent (issue 25): it validates a frame with a schema
 * built for that frame's type, which is garbage once the frame is parsed or encoded, so an idle
 * agent holds no schema at all (the whole catalog is ~0.75 MB of heap). The server keeps the
 * built-once `AgentFrame` and `ServerFrame` above.
 */
const AGENT_FRAME_SCHEMAS: { [T in AgentFrame["type"]]: () => v.GenericSchema } = {
  token_stored: tokenStoredFrame,
  error: errorFrame,
  hello: helloFrame,
  heartbeat: heartbeatFrame,
  metrics: metricsFrame,
  metrics_detail: metricsDetailFrame,
  result: resultFrame,
  output: outputFrame,
  ack: agentAckFrame,
  ping: pingFrame,
  pong: pongFrame,
  inventory: () => inventoryFrame(),
  inventory_chunk: inventoryChunkFrame,
  rpc_result: rpcResultFrame,
  stream_data: streamDataFrame,
  stream_credit: streamCreditFrame,
  stream_end: streamEndFrame,
};

const SERVER_FRAME_SCHEMAS: { [T in ServerFrame["type"]]: () => v.GenericSchema } = {
  token_rotated: tokenRotatedFrame,
  exec: execFrame,
  cancel: cancelFrame,
  ack: serverAckFrame,
  config: configFrame,
  metrics_stream: metricsStreamFrame,
  self_update: selfUpdateFrame,
  error: errorFrame,
  ping: pingFrame,
  pong: pongFrame,
  inventory_request: inventoryRequestFrame,
  inventory_ack: inventoryAckFrame,
  rpc: rpcFrame,
  stream_start: streamStartFrame,
  stream_credit: streamCreditFrame,
  stream_data: streamDataFrame,
  stream_stop: streamStopFrame,
};

/**
 * A new schema for `frame`'s type; for a frame of no known type, the whole catalog as a variant
 * (built for this frame only), so the error names the types a variant would.
 */
function schemaFor(factories: Record<string, () => v.GenericSchema>, frame: unknown): v.GenericSchema {
  const type = typeof frame === "object" && frame !== null ? (frame as { type?: unknown }).type : undefined;
  if (typeof type === "string" && Object.hasOwn(factories, type)) return factories[type]();
  const options = Object.values(factories).map((make) => make());
  return v.variant("type", options as unknown as v.VariantOptions<"type">);
}

/** Parses a frame the server received from an agent. */
export function parseAgentFrame(text: string) {
  return parseWith(AgentFrame, text);
}

/** Parses a frame the agent received from the server, with a schema built for its type. */
export function parseServerFrame(text: string): { frame: ServerFrame } | { error: string } {
  return parseWith((json) => schemaFor(SERVER_FRAME_SCHEMAS, json), text) as
    | { frame: ServerFrame }
    | { error: string };
}

/** Serialises a server → agent frame, validating it first so a bug can't put a bad frame on the wire. */
export function encodeServerFrame(frame: Outgoing<ServerFrame>): string {
  return JSON.stringify(v.parse(ServerFrame, { v: PROTOCOL_VERSION, ...frame }));
}

/** Serialises an agent → server frame, validating it first with a schema built for its type (the agent's path). */
export function encodeAgentFrame(frame: Outgoing<AgentFrame>): string {
  const full = { v: PROTOCOL_VERSION, ...frame };
  return JSON.stringify(v.parse(schemaFor(AGENT_FRAME_SCHEMAS, full), full));
}
