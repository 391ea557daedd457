import * as v from "valibot";
import { boundedId, count, versionEntries } from "./primitives";
import { REACH_METHOD_NAMES, RPC_ERROR_CODES, STREAM_KIND_NAMES } from "./reach-methods";

// Each schema is built by a function, and the exported constant is that function's result, marked
// pure: the server uses the constants (built once), while the agent builds only the schema a frame
// needs when it needs it, and esbuild drops the unused constants from the agent's bundle, so an idle
// agent holds no schema (issue 25, docs/agent-footprint.md).

// The generic live path (issue 20), part of the one catalog in ./frames.ts: a request/response pair
// and a credit-based stream, whatever the method. What each method carries is in ./reach-methods.ts.

const method = () => v.picklist(REACH_METHOD_NAMES);
const kind = () => v.picklist(STREAM_KIND_NAMES);
const params = () => v.record(v.string(), v.unknown());

/** Most items one `stream_data` frame carries. */
export const MAX_STREAM_ITEMS = 500;

const rpcErrorSchema = () =>
  v.object({
    code: v.picklist(RPC_ERROR_CODES),
    message: v.pipe(v.string(), v.maxLength(1024)),
  });
export const RpcErrorSchema = /* @__PURE__ */ rpcErrorSchema();

/** server → agent: call `method`; the agent answers `rpc_result` with the same id before `deadline_ms` (epoch ms). */
export const rpcFrame = () =>
  v.object({
    ...versionEntries(),
    type: v.literal("rpc"),
    id: boundedId(),
    method: method(),
    params: params(),
    deadline_ms: count(),
  });
export const RpcFrame = /* @__PURE__ */ rpcFrame();

/** agent → server: the answer to one `rpc`. */
export const rpcResultFrame = () =>
  v.object({
    ...versionEntries(),
    type: v.literal("rpc_result"),
    id: boundedId(),
    ok: v.boolean(),
    result: v.optional(v.unknown()),
    error: v.optional(rpcErrorSchema()),
  });
export const RpcResultFrame = /* @__PURE__ */ rpcResultFrame();

/** server → agent: open a stream; the agent may send `credits` `stream_data` frames before more are granted. */
export const streamStartFrame = () =>
  v.object({
    ...versionEntries(),
    type: v.literal("stream_start"),
    stream_id: boundedId(),
    kind: kind(),
    params: params(),
    credits: v.pipe(count(), v.maxValue(1024)),
  });
export const StreamStartFrame = /* @__PURE__ */ streamStartFrame();

/**
 * The reader consumed frames; `credits` more may be sent. server → agent for the agent's streams;
 * agent → server for an upload (`files.write_open`'s `upload_id`), whose bytes flow the other way.
 */
export const streamCreditFrame = () =>
  v.object({
    ...versionEntries(),
    type: v.literal("stream_credit"),
    stream_id: boundedId(),
    credits: v.pipe(count(), v.maxValue(1024)),
  });
export const StreamCreditFrame = /* @__PURE__ */ streamCreditFrame();

/** server → agent: nobody reads this stream any more. */
export const streamStopFrame = () =>
  v.object({ ...versionEntries(), type: v.literal("stream_stop"), stream_id: boundedId() });
export const StreamStopFrame = /* @__PURE__ */ streamStopFrame();

/**
 * The next items of a stream (a log tail's entries), agent → server, in `seq` order. A file's bytes
 * do not come as items: they travel as binary chunk frames (./chunk-frames.ts), in `seq` order too.
 */
export const streamDataFrame = () =>
  v.object({
    ...versionEntries(),
    type: v.literal("stream_data"),
    stream_id: boundedId(),
    seq: count(),
    items: v.pipe(v.array(v.unknown()), v.maxLength(MAX_STREAM_ITEMS)),
  });
export const StreamDataFrame = /* @__PURE__ */ streamDataFrame();

/**
 * agent → server: the stream is over (`eof`, `stopped`, or `error` with the reason). For an upload,
 * `error` means the agent dropped it (a write failed): the server stops sending and aborts.
 */
export const streamEndFrame = () =>
  v.object({
    ...versionEntries(),
    type: v.literal("stream_end"),
    stream_id: boundedId(),
    reason: v.picklist(["eof", "stopped", "error"]),
    error: v.optional(rpcErrorSchema()),
  });
export const StreamEndFrame = /* @__PURE__ */ streamEndFrame();
