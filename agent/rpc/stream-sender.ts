import { chunkHeaderLength, writeChunkHeader } from "../../src/protocol/chunk-frames";
import type { FrameSink } from "../dispatcher";

/** Where binary chunk frames go: the socket, and a wait for its send queue to drain. */
export interface ByteSink {
  /** Queues `frame`; `written` is called once the socket no longer needs it (written, or failed). */
  send(frame: Uint8Array, written?: () => void): boolean;
  drained(): Promise<void>;
}

/**
 * The agent's side of one stream: sends `stream_data` only while it holds credits, waits for
 * `stream_credit` otherwise, and stops for good on `stream_stop` or a closed socket.
 */
export class StreamSender {
  private seq = 0;
  private waiting: (() => void) | undefined;
  private onStop: (() => void) | undefined;
  /** Resolves when the stream stops (a producer waiting on something else can race it). */
  readonly whenStopped = new Promise<void>((resolve) => (this.onStop = resolve));
  stopped = false;

  constructor(
    readonly id: string,
    private credits: number,
    private readonly send: FrameSink,
    private readonly bytes?: ByteSink,
  ) {}

  /** Bytes before a chunk's data in its frame (`src/protocol/chunk-frames.ts`). */
  get headerLength(): number {
    return chunkHeaderLength(this.id);
  }

  grant(credits: number): void {
    this.credits += credits;
    this.wake();
  }

  stop(): void {
    this.stopped = true;
    this.onStop?.();
    this.wake();
  }

  private wake(): void {
    const w = this.waiting;
    this.waiting = undefined;
    w?.();
  }

  /** Sends items once a credit is there; false when the stream was stopped (the producer should quit). */
  async push(items: unknown[]): Promise<boolean> {
    while (!this.stopped && this.credits <= 0) await new Promise<void>((r) => (this.waiting = r));
    if (this.stopped) return false;
    this.credits--;
    if (!this.send({ type: "stream_data", stream_id: this.id, seq: this.seq++, items })) {
      this.stopped = true;
      return false;
    }
    return true;
  }

  /**
   * Sends `frame` (a buffer whose first `headerLength` bytes are left for the header, then the chunk)
   * as the next binary chunk once a credit is there and the socket's queue has drained; the socket
   * keeps `frame` until `written` is called, so the caller must not reuse it before. False when the
   * stream was stopped (then `written` may never be called: race it with `whenStopped`).
   */
  async pushChunk(frame: Uint8Array, written?: () => void): Promise<boolean> {
    while (!this.stopped && this.credits <= 0) await new Promise<void>((r) => (this.waiting = r));
    if (!this.stopped) await this.bytes?.drained();
    if (this.stopped) return false;
    this.credits--;
    writeChunkHeader(frame, this.id, this.seq++);
    if (!this.bytes?.send(frame, written)) {
      this.stop();
      return false;
    }
    return true;
  }

  end(reason: "eof" | "stopped" | "error", error?: { code: string; message: string }): void {
    this.send({
      type: "stream_end",
      stream_id: this.id,
      reason,
      ...(error ? { error: error as { code: "internal"; message: string } } : {}),
    });
  }
}
