import type { WSMessage } from "partyserver";
import { decodeChunkFrame } from "../../src/protocol/chunk-frames";
import { type AgentFrame, parseAgentFrame } from "../../src/protocol/frames";
import type { AgentUploads } from "./file-upload";
import type { PendingRpcs } from "./rpc";
import type { AgentStreams } from "./streams";

/** The object's reach-in state a frame from the agent may answer or continue. */
export interface ReachState {
  readonly rpcs: PendingRpcs;
  readonly streams: AgentStreams;
  readonly uploads: AgentUploads;
}

/** What became of one agent message at the door. */
export type Arrival =
  /** It answered or continued something this object opened, and was handled already. */
  | { kind: "handled" }
  /** A frame for the usual path (frame budget, then the queue): parsed, or why it is invalid. */
  | { kind: "queued"; parsed: { frame: AgentFrame } | { error: string } }
  /** A chunk for a stream that was stopped already (frames in flight): charged to the budget, dropped. */
  | { kind: "dropped" };

/**
 * Handles at once the frames whose pace this object sets itself: a download's binary chunks (no more
 * than the credits it granted), an upload's credits, an `rpc_result` it waits for, and the data and
 * end of its open streams. They write nothing to libSQL and wait behind no database write, so they
 * skip the frame budget and the queue: a 50 MiB transfer is 200 chunk frames and 200 credits, past
 * the budget's burst, and a log tail at 1,000 lines/s is a steady stream of frames. Every other
 * frame, and one that matches nothing open, takes the usual path.
 */
export function arrive(reach: ReachState, message: WSMessage): Arrival {
  if (typeof message !== "string") {
    const bytes =
      message instanceof ArrayBuffer
        ? new Uint8Array(message)
        : new Uint8Array(message.buffer, message.byteOffset, message.byteLength);
    const chunk = decodeChunkFrame(bytes);
    if ("error" in chunk) return { kind: "queued", parsed: chunk };
    return reach.streams.chunk(chunk) ? { kind: "handled" } : { kind: "dropped" };
  }
  const parsed = parseAgentFrame(message);
  if ("error" in parsed) return { kind: "queued", parsed };
  const frame = parsed.frame;
  switch (frame.type) {
    case "rpc_result":
      if (reach.rpcs.settle(frame)) return { kind: "handled" };
      break;
    case "stream_data":
      if (reach.streams.data(frame)) return { kind: "handled" };
      break;
    case "stream_end":
      if (reach.streams.end(frame) || reach.uploads.end(frame)) return { kind: "handled" };
      break;
    case "stream_credit":
      if (reach.uploads.credit(frame)) return { kind: "handled" };
      break;
  }
  return { kind: "queued", parsed };
}
