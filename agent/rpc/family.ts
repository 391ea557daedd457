import type { ReachMethod, StreamKind } from "../../src/protocol/reach-methods";
import type { FrameSink } from "../dispatcher";
import type { ReachPolicy } from "./policy";
import type { StreamSender } from "./stream-sender";

/** One method family's handlers (`./processes`, `./logs`, `./files`), loaded on first use by `./server`. */
export interface Family {
  call(method: ReachMethod, params: unknown, policy: ReachPolicy): Promise<unknown>;
  stream?(kind: StreamKind, params: unknown, sender: StreamSender, policy: ReachPolicy): Promise<void>;
  /** A server → agent binary chunk for something this family opened (an upload's bytes). */
  receive?(streamId: string, seq: number, bytes: Uint8Array, send: FrameSink): void;
  /** The socket closed: the server forgot every call in flight (an upload half sent is abandoned). */
  disconnected?(): Promise<void>;
}
