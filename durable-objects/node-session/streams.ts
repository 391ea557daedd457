import type { Connection } from "partyserver";
import type * as v from "valibot";
import type { ChunkFrame } from "../../src/protocol/chunk-frames";
import { encodeServerFrame } from "../../src/protocol/frames";
import type { StreamKind, StreamParams } from "../../src/protocol/reach-methods";
import type { RpcErrorSchema, StreamDataFrame, StreamEndFrame } from "../../src/protocol/rpc-frames";

export type StreamError = v.InferOutput<typeof RpcErrorSchema>;

/** What the reader of one agent stream does with its frames. */
export interface StreamHandlers {
  /** The next items, in order (the object checks `seq`; a gap ends the stream). */
  data?(items: unknown[]): void;
  /** The next binary chunk (`./chunk-frames`), in order; a view into the message, not a copy. */
  bytes?(chunk: Uint8Array): void;
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
  /** Frames the agent may still send: the credits granted minus the frames received. */
  credits: number;
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
    this.#open.set(id, { conn, handlers, nextSeq: 0, credits });
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
        const open = this.#open.get(id);
        if (!open || n <= 0) return;
        open.credits += n;
        send({ type: "stream_credit", stream_id: id, credits: n });
      },
      stop: () => {
        if (!this.#open.delete(id)) return;
        send({ type: "stream_stop", stream_id: id });
      },
    };
  }

  /** A `stream_data` frame; false when it belongs to no open stream (stopped already). */
  data(frame: v.InferOutput<typeof StreamDataFrame>): boolean {
    const open = this.#next(frame.stream_id, frame.seq);
    if (!open) return open === null;
    if (open.handlers.data) open.handlers.data(frame.items);
    else this.#fail(frame.stream_id, open, "this stream carries binary chunks, not items");
    return true;
  }

  /** A binary chunk frame (a download's bytes); false when it belongs to no open stream. */
  chunk(frame: ChunkFrame): boolean {
    const open = this.#next(frame.streamId, frame.seq);
    if (!open) return open === null;
    if (open.handlers.bytes) open.handlers.bytes(frame.bytes);
    else this.#fail(frame.streamId, open, "this stream carries items, not binary chunks");
    return true;
  }

  /**
   * The open stream a frame with `seq` continues, after checking its order and credit: undefined when
   * no such stream is open, null when the frame broke the stream (ended with an error here).
   */
  #next(id: string, seq: number): OpenStream | undefined | null {
    const open = this.#open.get(id);
    if (!open) return undefined;
    if (seq !== open.nextSeq) return this.#fail(id, open, "stream frames arrived out of order");
    if (open.credits <= 0) return this.#fail(id, open, "the agent sent more frames than it was granted");
    open.nextSeq++;
    open.credits--;
    return open;
  }

  #fail(id: string, open: OpenStream, message: string): null {
    this.#open.delete(id);
    try {
      open.conn.send(encodeServerFrame({ type: "stream_stop", stream_id: id }));
    } catch {
      // the connection closed; nothing to stop
    }
    open.handlers.end("error", { code: "internal", message });
    return null;
  }

  /** Whether `id` is an open stream (its frames are paced by this object's credits). */
  has(id: string): boolean {
    return this.#open.has(id);
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
