import * as v from "valibot";
import { boundedId, count, finiteNumber, sha256Hex } from "./primitives";

// Each schema is built by a function, and the exported constant is that function's result, marked
// pure: the server uses the constants (built once), while the agent builds only the schema a frame
// needs when it needs it, and esbuild drops the unused constants from the agent's bundle, so an idle
// agent holds no schema (issue 25, docs/agent-footprint.md).

// The catalog of what the server may ask an agent through the generic `rpc` and stream frames
// (./rpc-frames.ts): each method's params and result, validated by the agent on receive and by the
// server on the answer. A later feature adds a method here, not a frame type.

/** Capabilities an agent announces in its hello for each method family. */
export const REACH_CAPABILITIES = {
  processes: "processes.v1",
  logs: "logs.v1",
  files: "files.v1",
} as const;
export type ReachFamily = keyof typeof REACH_CAPABILITIES;

/** Signals an operator may send; numbers are mapped by the agent for its architecture. */
export const ALLOWED_SIGNALS = [
  "SIGHUP",
  "SIGINT",
  "SIGQUIT",
  "SIGKILL",
  "SIGUSR1",
  "SIGUSR2",
  "SIGTERM",
  "SIGCONT",
  "SIGSTOP",
] as const;
export type AllowedSignal = (typeof ALLOWED_SIGNALS)[number];

const pid = () => v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(2 ** 31 - 1));
const absPath = () =>
  v.pipe(
    v.string(),
    v.minLength(1),
    v.maxLength(4096),
    v.startsWith("/", "must be an absolute path"),
    v.check((p) => !p.includes("\0"), "must not contain NUL"),
  );

/** One process as the agent reads it from `/proc`. `start_time` is ISO 8601 (it also guards pid reuse). */
const processInfoSchema = () =>
  v.object({
    pid: pid(),
    ppid: count(),
    name: v.string(),
    cmdline: v.string(),
    user: v.string(),
    state: v.string(),
    cpu_percent: finiteNumber(),
    memory_bytes: count(),
    threads: count(),
    start_time: v.string(),
  });
export const ProcessInfoSchema = /* @__PURE__ */ processInfoSchema();
export type ProcessInfo = v.InferOutput<typeof ProcessInfoSchema>;

export const LOG_LEVELS = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** One log entry; `id` resumes a query or a tail (a journald cursor, or `<path>:<offset>`). */
const logEntrySchema = () =>
  v.object({
    id: v.string(),
    timestamp: v.string(),
    source: v.picklist(["journal", "file", "docker"]),
    source_name: v.string(),
    level: v.nullable(v.picklist(LOG_LEVELS)),
    message: v.string(),
    fields: v.record(v.string(), v.unknown()),
  });
export const LogEntrySchema = /* @__PURE__ */ logEntrySchema();
export type LogEntry = v.InferOutput<typeof LogEntrySchema>;

/** Filters shared by a log query and a live tail. */
const logFilterSchema = () =>
  v.object({
    source: v.picklist(["journal", "file", "docker"]),
    /** A systemd unit for the journal, an absolute path for a file. */
    source_name: v.optional(v.pipe(v.string(), v.maxLength(4096))),
    levels: v.optional(v.array(v.picklist(LOG_LEVELS))),
    q: v.optional(v.pipe(v.string(), v.maxLength(256))),
  });
export const LogFilterSchema = /* @__PURE__ */ logFilterSchema();
export type LogFilter = v.InferOutput<typeof LogFilterSchema>;

const fileStatSchema = () =>
  v.object({
    path: v.string(),
    size: count(),
    mode: v.string(),
    sha256: sha256Hex(),
  });

/** Each method: a function that builds its params and result schemas. */
const METHOD_SCHEMAS = {
  "processes.list": () => ({
    params: v.object({}),
    result: v.object({ processes: v.array(processInfoSchema()) }),
  }),
  "processes.get": () => ({ params: v.object({ pid: pid() }), result: processInfoSchema() }),
  "processes.signal": () => ({
    params: v.object({
      pid: pid(),
      signal: v.union([v.picklist(ALLOWED_SIGNALS), v.pipe(v.number(), v.integer(), v.minValue(1))]),
      start_time: v.optional(v.string()),
    }),
    result: v.object({ pid: pid(), signal: v.picklist(ALLOWED_SIGNALS), delivered: v.boolean() }),
  }),
  "logs.query": () => ({
    params: v.object({
      ...logFilterSchema().entries,
      since: v.optional(count()),
      until: v.optional(count()),
      limit: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(1000)),
      cursor: v.optional(v.pipe(v.string(), v.maxLength(1024))),
    }),
    result: v.object({
      entries: v.array(logEntrySchema()),
      next_cursor: v.nullable(v.string()),
      scan_truncated: v.boolean(),
    }),
  }),
  "files.stat": () => ({ params: v.object({ path: absPath() }), result: fileStatSchema() }),
  "files.write_open": () => ({
    params: v.object({
      dest: absPath(),
      mode: v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(0o7777)),
      overwrite: v.boolean(),
      create_dirs: v.boolean(),
    }),
    // The bytes follow as server → agent binary chunk frames on `upload_id` (./chunk-frames.ts), at
    // most `credits` ahead of the agent's `stream_credit`s; size and SHA-256 are known only at the end.
    result: v.object({ upload_id: boundedId(), credits: v.pipe(count(), v.minValue(1), v.maxValue(64)) }),
  }),
  "files.write_commit": () => ({
    params: v.object({ upload_id: boundedId(), size: count(), sha256: sha256Hex() }),
    result: fileStatSchema(),
  }),
  "files.write_abort": () => ({ params: v.object({ upload_id: boundedId() }), result: v.object({}) }),
};
type MethodSchemas = { readonly [M in keyof typeof METHOD_SCHEMAS]: ReturnType<(typeof METHOD_SCHEMAS)[M]> };

/** Builds every entry of a table of schema factories once. */
const buildAll = <T extends Record<string, () => unknown>>(factories: T) =>
  Object.fromEntries(Object.entries(factories).map(([key, make]) => [key, make()])) as {
    readonly [K in keyof T]: ReturnType<T[K]>;
  };

/** Each method: its params and its result, built once (the server checks every answer with them). */
export const REACH_METHODS: MethodSchemas = /* @__PURE__ */ buildAll(METHOD_SCHEMAS);
/** Every method's name, without building a schema. */
export const REACH_METHOD_NAMES = Object.keys(METHOD_SCHEMAS) as [ReachMethod, ...ReachMethod[]];
/** New params and result schemas for one method (the agent's, built per call so an idle agent holds none). */
export const methodSchemas = <M extends ReachMethod>(method: M): MethodSchemas[M] =>
  METHOD_SCHEMAS[method]() as MethodSchemas[M];
export type ReachMethod = keyof typeof REACH_METHODS;
export type MethodParams<M extends ReachMethod> = v.InferOutput<(typeof REACH_METHODS)[M]["params"]>;
export type MethodResult<M extends ReachMethod> = v.InferOutput<(typeof REACH_METHODS)[M]["result"]>;

/** The family (and so the capability) a method belongs to. */
export function familyOf(method: string): ReachFamily {
  return method.split(".")[0] as ReachFamily;
}

/**
 * Methods and streams whose protocol changed after their family's first capability, and the
 * capability that names the current one. `files.v3` moves file bytes out of JSON into binary chunk
 * frames (`./chunk-frames.ts`) both ways: an agent that announces only `files.v1` or `files.v2`
 * (base64 items in `stream_data`) still answers `files.stat`, but is sent no download or upload.
 */
export const METHOD_CAPABILITIES: Partial<Record<ReachMethod | StreamKind, string>> = {
  "files.read": "files.v3",
  "files.write_open": "files.v3",
  "files.write_commit": "files.v3",
  "files.write_abort": "files.v3",
};

/** The capability the agent must have announced for `method` (or a stream kind) to be sent. */
export function capabilityOf(method: string): string {
  return METHOD_CAPABILITIES[method as ReachMethod | StreamKind] ?? REACH_CAPABILITIES[familyOf(method)];
}

/** Every reach capability this protocol version's agent announces in its hello. */
export const AGENT_REACH_CAPABILITIES = [
  ...new Set([...Object.values(REACH_CAPABILITIES), ...Object.values(METHOD_CAPABILITIES)]),
];

/** Streams the server may open: a live log tail, and a file download in chunks (params schema factories). */
const STREAM_SCHEMAS = {
  "logs.tail": () =>
    v.object({
      ...logFilterSchema().entries,
      resume: v.optional(v.pipe(v.string(), v.maxLength(1024))),
    }),
  "files.read": () => v.object({ path: absPath() }),
};
/** Each stream kind's params schema, built once. */
export const STREAM_KINDS = /* @__PURE__ */ buildAll(STREAM_SCHEMAS);
export type StreamKind = keyof typeof STREAM_SCHEMAS;
/** Every stream kind, without building a schema. */
export const STREAM_KIND_NAMES = Object.keys(STREAM_SCHEMAS) as [StreamKind, ...StreamKind[]];
/** A new params schema for one stream kind. */
export const streamParamsSchema = <K extends StreamKind>(kind: K): ReturnType<(typeof STREAM_SCHEMAS)[K]> =>
  STREAM_SCHEMAS[kind]() as ReturnType<(typeof STREAM_SCHEMAS)[K]>;
export type StreamParams<K extends StreamKind> = v.InferOutput<ReturnType<(typeof STREAM_SCHEMAS)[K]>>;

/**
 * Error codes an agent answers with; each maps to one REST status (`src/node-reach/errors.ts`).
 * `policy`: the host owner's own configuration refuses it (403).
 */
export const RPC_ERROR_CODES = [
  "not_found",
  "conflict",
  "policy",
  "bad_request",
  "too_large",
  "unsupported",
  "internal",
] as const;
export type RpcErrorCode = (typeof RPC_ERROR_CODES)[number];

/**
 * Raw bytes per binary chunk frame (`./chunk-frames.ts`) of a download or an upload. Half of
 * workerd's 1 MiB limit on a received WebSocket message, so the header always fits; fewer, larger
 * frames cost less per byte than 256 KiB ones (one event, one credit, one stream hop each).
 */
export const FILE_CHUNK_BYTES = 512 * 1024;
