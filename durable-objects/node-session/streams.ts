import type { Connection } from "partyserver";
import type * as v from "valibot";
import { encodeServerFrame } from "../../src/protocol/frames";
import type { StreamKind, StreamParams } from "../../src/protocol/reach-methods";
import type { RpcErrorSchema, StreamDataFrame, StreamEndFrame } from "../../src/protocol/rpc-frames";

export type StreamError = v.InferOutput<typeof RpcErrorSchema>;

/** What the reader of one agent stream does with its frames. */
export interface StreamHandlers {
  /** The next items, in order (the object checks `seq`; a gap ends the stream). */
  data(items: unknown[]): void;
  /** The stream is over: the agent ended it, or the connection closed (`error`). */
  end(reason: "eof" | "stopped" | "error", error?: StreamError): void;
}

/** The object's side of one open agent stream. */
export interface StreamHandle {
  readonly id: string;
  /** The reader consumed frames: lets the agent send `credits` more. */
  grant(credits: number): void;
  /** Nobody reads any more: the agent stops, and later frames are dropped. */
  stop(): void;
}

interface OpenStream {
  conn: Connection;
  handlers: StreamHandlers;
  nextSeq: number;
}

/**
 * The node's open agent streams (`stream_start` … `stream_end`). Credit-based: the agent sends no more
 * `stream_data` frames than it was granted, so a fast producer cannot swamp the object or a slow client.
 */
export class AgentStreams {
  readonly #open = new Map<string, OpenStream>();

  get size(): number {
    return this.#open.size;
  }

  open<K extends StreamKind>(
    conn: Connection,
    kind: K,
    params: StreamParams<K>,
    credits: number,
    handlers: StreamHandlers,
  ): StreamHandle {
    const id = crypto.randomUUID();
    this.#open.set(id, { conn, handlers, nextSeq: 0 });
    conn.send(
      encodeServerFrame({
        type: "stream_start",
        stream_id: id,
        kind,
        params: params as Record<string, unknown>,
        credits,
      }),
    );
    const send = (frame: Parameters<typeof encodeServerFrame>[0]) => {
      try {
        conn.send(encodeServerFrame(frame));
      } catch {
        // the connection closed; failAll ends the stream
      }
    };
    return {
      id,
      grant: (n) => {
        if (this.#open.has(id) && n > 0) send({ type: "stream_credit", stream_id: id, credits: n });
      },
      stop: () => {
        if (!this.#open.delete(id)) return;
        send({ type: "stream_stop", stream_id: id });
      },
    };
  }

  /** A `stream_data` frame; false when it belongs to no open stream (stopped already). */
  data(frame: v.InferOutput<typeof StreamDataFrame>): boolean {
    const open = this.#open.get(frame.stream_id);
    if (!open) return false;
    if (frame.seq !== open.nextSeq) {
      this.#open.delete(frame.stream_id);
      open.handlers.end("error", { code: "internal", message: "stream frames arrived out of order" });
      return true;
    }
    open.nextSeq++;
    open.handlers.data(frame.items);
    return true;
  }

  /** A `stream_end` frame; false when it belongs to no open stream (it may end an upload). */
  end(frame: v.InferOutput<typeof StreamEndFrame>): boolean {
    const open = this.#open.get(frame.stream_id);
    if (!open) return false;
    this.#open.delete(frame.stream_id);
    open.handlers.end(frame.reason, frame.error);
    return true;
  }

  /** The connection closed: every stream on it ends with an error. */
  failAll(): void {
    for (const [id, open] of this.#open) {
      this.#open.delete(id);
      open.handlers.end("error", { code: "internal", message: "the agent disconnected" });
    }
  }
}
