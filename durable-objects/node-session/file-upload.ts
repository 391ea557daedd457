import type { Connection } from "partyserver";
import type * as v from "valibot";
import { releaseBuffer } from "../../src/node-files/release-buffer";
import type { NodeStatus } from "../../src/nodes/status";
import { chunkHeaderLength, writeChunkHeader } from "../../src/protocol/chunk-frames";
import { FILE_CHUNK_BYTES } from "../../src/protocol/reach-methods";
import type { StreamCreditFrame, StreamEndFrame } from "../../src/protocol/rpc-frames";
import type { RpcOutcome } from "./rpc";
import type { StreamError } from "./streams";

interface Window {
  credits: number;
  wake?: () => void;
  error?: StreamError;
}

/** Why sending an upload's bytes stopped before they were all sent. */
export type UploadFailure =
  | { kind: "too_large"; max: number }
  | { kind: "agent"; error: StreamError }
  | { kind: "timeout" }
  | { kind: "offline" }
  | { kind: "body"; message: string };

function hex(buffer: ArrayBuffer): string {
  return [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * The node's uploads in flight, as seen from the sending side: the agent grants credits
 * (`stream_credit`) as it writes chunks to disk, and ends an upload it dropped (`stream_end`).
 */
export class AgentUploads {
  readonly #open = new Map<string, Window>();

  get size(): number {
    return this.#open.size;
  }

  /** A `stream_credit` frame; false when it is for no upload (a download's credits go the other way). */
  credit(frame: v.InferOutput<typeof StreamCreditFrame>): boolean {
    const window = this.#open.get(frame.stream_id);
    if (!window) return false;
    window.credits += frame.credits;
    window.wake?.();
    return true;
  }

  /** A `stream_end` frame for an upload: the agent dropped it. False when it is for no upload. */
  end(frame: v.InferOutput<typeof StreamEndFrame>): boolean {
    const window = this.#open.get(frame.stream_id);
    if (!window) return false;
    window.error = frame.error ?? {
      code: "internal",
      message: `the agent ended the upload (${frame.reason})`,
    };
    window.wake?.();
    return true;
  }

  /** The connection closed: every upload stops. */
  failAll(): void {
    for (const window of this.#open.values()) {
      window.error ??= { code: "internal", message: "the agent disconnected" };
      window.wake?.();
    }
  }

  /** Whether `id` is an upload in flight (its credits are paced by this object's chunks). */
  has(id: string): boolean {
    return this.#open.has(id);
  }

  /**
   * Reads `body` and sends it to the agent as binary chunk frames (`src/protocol/chunk-frames.ts`) of
   * FILE_CHUNK_BYTES on `uploadId`, never more than the agent's credits ahead: the object holds one
   * chunk whatever the file's size, and reads the body only as fast as the agent writes.
   * Resolves with the size and SHA-256 of what was sent, or why it stopped (the body is cancelled then).
   */
  async send(
    conn: Connection,
    uploadId: string,
    credits: number,
    body: ReadableStream<Uint8Array>,
    limits: { maxBytes: number; idleMs: number },
  ): Promise<{ size: number; sha256: string } | UploadFailure> {
    const window: Window = { credits };
    this.#open.set(uploadId, window);
    const reader = body.getReader();
    const digest = new crypto.DigestStream("SHA-256");
    const hashing = digest.getWriter();
    // One frame buffer, reused: `send` copies it onto the socket, so the next chunk can fill it.
    const header = chunkHeaderLength(uploadId);
    const frame = new Uint8Array(header + FILE_CHUNK_BYTES);
    let filled = 0;
    let size = 0;
    let seq = 0;
    const flush = async (): Promise<UploadFailure | null> => {
      if (filled === 0) return null;
      const waited = await this.#credit(window, limits.idleMs);
      if (waited) return waited;
      window.credits--;
      writeChunkHeader(frame, uploadId, seq++);
      const bytes = frame.subarray(0, header + filled);
      // DigestStream keeps what it was given until it hashes it: a copy, as the frame is reused,
      // freed once hashed, not at the next garbage collection (src/node-files/release-buffer.ts).
      const copy = bytes.slice(header);
      await hashing.write(copy);
      releaseBuffer(copy.buffer);
      try {
        conn.send(bytes);
      } catch {
        return { kind: "offline" };
      }
      filled = 0;
      return null;
    };
    try {
      for (;;) {
        let next: ReadableStreamReadResult<Uint8Array>;
        try {
          next = await reader.read();
        } catch (error) {
          return { kind: "body", message: (error as Error).message };
        }
        if (next.done) break;
        const read = next.value;
        let bytes = read;
        size += bytes.length;
        if (size > limits.maxBytes) return { kind: "too_large", max: limits.maxBytes };
        while (bytes.length > 0) {
          const take = Math.min(bytes.length, FILE_CHUNK_BYTES - filled);
          frame.set(bytes.subarray(0, take), header + filled);
          filled += take;
          bytes = bytes.subarray(take);
          if (filled === FILE_CHUNK_BYTES) {
            const failed = await flush();
            if (failed) return failed;
          }
        }
        // Copied into the frame: its memory goes now, not at the next garbage collection.
        releaseBuffer(read.buffer);
      }
      const failed = await flush();
      if (failed) return failed;
      if (window.error) return { kind: "agent", error: window.error };
      await hashing.close();
      return { size, sha256: hex(await digest.digest) };
    } finally {
      this.#open.delete(uploadId);
      reader.cancel().catch(() => undefined);
    }
  }

  /** Waits for a credit: null once there is one, else why none will come. */
  async #credit(window: Window, idleMs: number): Promise<UploadFailure | null> {
    const deadline = Date.now() + idleMs;
    while (!window.error && window.credits <= 0) {
      const left = deadline - Date.now();
      if (left <= 0) return { kind: "timeout" };
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        window.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      window.wake = undefined;
    }
    return window.error ? { kind: "agent", error: window.error } : null;
  }
}

/** How a stopped upload answers the Worker (`workers/services/node-reach.ts` maps it to a status). */
export function uploadFailureOutcome(
  failure: UploadFailure,
  nodeStatus: NodeStatus,
): Exclude<RpcOutcome<never>, { status: "ok" }> {
  switch (failure.kind) {
    case "too_large":
      return {
        status: "error",
        code: "too_large",
        message: `the file is larger than FILE_TRANSFER_MAX_BYTES (${failure.max} bytes)`,
      };
    case "agent":
      return { status: "error", code: failure.error.code, message: failure.error.message };
    case "timeout":
      return { status: "timeout" };
    case "offline":
      return { status: "offline", node_status: nodeStatus };
    case "body":
      return {
        status: "error",
        code: "bad_request",
        message: `the upload's body failed: ${failure.message}`,
      };
  }
}
