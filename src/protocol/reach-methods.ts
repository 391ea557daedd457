import * as v from "valibot";

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

const Int = v.pipe(v.number(), v.integer(), v.minValue(0));
const Pid = v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(2 ** 31 - 1));
const Num = v.pipe(v.number(), v.finite());
const Id = v.pipe(v.string(), v.minLength(1), v.maxLength(128));
const Sha256 = v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/));
const AbsPath = v.pipe(
  v.string(),
  v.minLength(1),
  v.maxLength(4096),
  v.startsWith("/", "must be an absolute path"),
  v.check((p) => !p.includes("\0"), "must not contain NUL"),
);

/** One process as the agent reads it from `/proc`. `start_time` is ISO 8601 (it also guards pid reuse). */
export const ProcessInfoSchema = v.object({
  pid: Pid,
  ppid: Int,
  name: v.string(),
  cmdline: v.string(),
  user: v.string(),
  state: v.string(),
  cpu_percent: Num,
  memory_bytes: Int,
  threads: Int,
  start_time: v.string(),
});
export type ProcessInfo = v.InferOutput<typeof ProcessInfoSchema>;

export const LOG_LEVELS = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** One log entry; `id` resumes a query or a tail (a journald cursor, or `<path>:<offset>`). */
export const LogEntrySchema = v.object({
  id: v.string(),
  timestamp: v.string(),
  source: v.picklist(["journal", "file", "docker"]),
  source_name: v.string(),
  level: v.nullable(v.picklist(LOG_LEVELS)),
  message: v.string(),
  fields: v.record(v.string(), v.unknown()),
});
export type LogEntry = v.InferOutput<typeof LogEntrySchema>;

/** Filters shared by a log query and a live tail. */
export const LogFilterSchema = v.object({
  source: v.picklist(["journal", "file", "docker"]),
  /** A systemd unit for the journal, an absolute path for a file. */
  source_name: v.optional(v.pipe(v.string(), v.maxLength(4096))),
  levels: v.optional(v.array(v.picklist(LOG_LEVELS))),
  q: v.optional(v.pipe(v.string(), v.maxLength(256))),
});
export type LogFilter = v.InferOutput<typeof LogFilterSchema>;

export const FileStatSchema = v.object({
  path: v.string(),
  size: Int,
  mode: v.string(),
  sha256: Sha256,
});

/** Each method: its params and its result. */
export const REACH_METHODS = {
  "processes.list": { params: v.object({}), result: v.object({ processes: v.array(ProcessInfoSchema) }) },
  "processes.get": { params: v.object({ pid: Pid }), result: ProcessInfoSchema },
  "processes.signal": {
    params: v.object({
      pid: Pid,
      signal: v.union([v.picklist(ALLOWED_SIGNALS), v.pipe(v.number(), v.integer(), v.minValue(1))]),
      start_time: v.optional(v.string()),
    }),
    result: v.object({ pid: Pid, signal: v.picklist(ALLOWED_SIGNALS), delivered: v.boolean() }),
  },
  "logs.query": {
    params: v.object({
      ...LogFilterSchema.entries,
      since: v.optional(Int),
      until: v.optional(Int),
      limit: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(1000)),
      cursor: v.optional(v.pipe(v.string(), v.maxLength(1024))),
    }),
    result: v.object({
      entries: v.array(LogEntrySchema),
      next_cursor: v.nullable(v.string()),
      scan_truncated: v.boolean(),
    }),
  },
  "files.stat": { params: v.object({ path: AbsPath }), result: FileStatSchema },
  "files.write_open": {
    params: v.object({
      dest: AbsPath,
      mode: v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(0o7777)),
      overwrite: v.boolean(),
      create_dirs: v.boolean(),
    }),
    // The bytes follow as server → agent binary chunk frames on `upload_id` (./chunk-frames.ts), at
    // most `credits` ahead of the agent's `stream_credit`s; size and SHA-256 are known only at the end.
    result: v.object({ upload_id: Id, credits: v.pipe(Int, v.minValue(1), v.maxValue(64)) }),
  },
  "files.write_commit": {
    params: v.object({ upload_id: Id, size: Int, sha256: Sha256 }),
    result: FileStatSchema,
  },
  "files.write_abort": { params: v.object({ upload_id: Id }), result: v.object({}) },
} as const;
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

/** Streams the server may open: a live log tail, and a file download in chunks. */
export const STREAM_KINDS = {
  "logs.tail": v.object({
    ...LogFilterSchema.entries,
    resume: v.optional(v.pipe(v.string(), v.maxLength(1024))),
  }),
  "files.read": v.object({ path: AbsPath }),
} as const;
export type StreamKind = keyof typeof STREAM_KINDS;
export type StreamParams<K extends StreamKind> = v.InferOutput<(typeof STREAM_KINDS)[K]>;

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
