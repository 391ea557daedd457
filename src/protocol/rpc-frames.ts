import * as v from "valibot";
import { REACH_METHODS, RPC_ERROR_CODES, STREAM_KINDS } from "./reach-methods";

// The generic live path (issue 20), part of the one catalog in ./frames.ts: a request/response pair
// and a credit-based stream, whatever the method. What each method carries is in ./reach-methods.ts.

const version = { v: v.literal(1) };
const Id = v.pipe(v.string(), v.minLength(1), v.maxLength(128));
const Count = v.pipe(v.number(), v.integer(), v.minValue(0));
const Method = v.picklist(Object.keys(REACH_METHODS) as [keyof typeof REACH_METHODS]);
const Kind = v.picklist(Object.keys(STREAM_KINDS) as [keyof typeof STREAM_KINDS]);
const Params = v.record(v.string(), v.unknown());

/** Most items one `stream_data` frame carries. */
export const MAX_STREAM_ITEMS = 500;

export const RpcErrorSchema = v.object({
  code: v.picklist(RPC_ERROR_CODES),
  message: v.pipe(v.string(), v.maxLength(1024)),
});

/** server → agent: call `method`; the agent answers `rpc_result` with the same id before `deadline_ms` (epoch ms). */
export const RpcFrame = v.object({
  ...version,
  type: v.literal("rpc"),
  id: Id,
  method: Method,
  params: Params,
  deadline_ms: Count,
});

/** agent → server: the answer to one `rpc`. */
export const RpcResultFrame = v.object({
  ...version,
  type: v.literal("rpc_result"),
  id: Id,
  ok: v.boolean(),
  result: v.optional(v.unknown()),
  error: v.optional(RpcErrorSchema),
});

/** server → agent: open a stream; the agent may send `credits` `stream_data` frames before more are granted. */
export const StreamStartFrame = v.object({
  ...version,
  type: v.literal("stream_start"),
  stream_id: Id,
  kind: Kind,
  params: Params,
  credits: v.pipe(Count, v.maxValue(1024)),
});

/**
 * The reader consumed frames; `credits` more may be sent. server → agent for the agent's streams;
 * agent → server for an upload (`files.write_open`'s `upload_id`), whose bytes flow the other way.
 */
export const StreamCreditFrame = v.object({
  ...version,
  type: v.literal("stream_credit"),
  stream_id: Id,
  credits: v.pipe(Count, v.maxValue(1024)),
});

/** server → agent: nobody reads this stream any more. */
export const StreamStopFrame = v.object({ ...version, type: v.literal("stream_stop"), stream_id: Id });

/**
 * The next items of a stream (a log tail's entries), agent → server, in `seq` order. A file's bytes
 * do not come as items: they travel as binary chunk frames (./chunk-frames.ts), in `seq` order too.
 */
export const StreamDataFrame = v.object({
  ...version,
  type: v.literal("stream_data"),
  stream_id: Id,
  seq: Count,
  items: v.pipe(v.array(v.unknown()), v.maxLength(MAX_STREAM_ITEMS)),
});

/**
 * agent → server: the stream is over (`eof`, `stopped`, or `error` with the reason). For an upload,
 * `error` means the agent dropped it (a write failed): the server stops sending and aborts.
 */
export const StreamEndFrame = v.object({
  ...version,
  type: v.literal("stream_end"),
  stream_id: Id,
  reason: v.picklist(["eof", "stopped", "error"]),
  error: v.optional(RpcErrorSchema),
});
