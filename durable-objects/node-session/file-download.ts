import type { Connection } from "partyserver";
import { releaseBuffer } from "../../src/node-files/release-buffer";
import type { AgentStreams } from "./streams";

/**
 * Chunks the agent may send ahead of the reader (FILE_CHUNK_BYTES, 512 KiB, each): the object holds at
 * most this many per download (4 MiB), whatever the file's size. Fewer were too few to cover the
 * credit's round trip through the agent's disk read and the socket, so the pipe sat idle between chunks.
 */
const WINDOW = 8;

/**
 * A file's bytes as a stream read from the agent in `files.read` chunks. Each chunk the reader takes
 * grants the agent one more frame, and its memory is freed then, not at the next garbage collection:
 * the object holds at most WINDOW chunks however large the file or slow the client.
 * A stream that ends early or with an error errors the body (the client sees a cut download).
 */
export function downloadStream(
  streams: AgentStreams,
  conn: Connection,
  path: string,
  expectedSize: number,
  /** Every byte reached the reader's side (not called for a cut or failed download). */
  onComplete: () => void = () => undefined,
): ReadableStream<Uint8Array> {
  // A native pipe: a chunk written to it is held until the reader took it, and the write's promise
  // says when. Then the chunk's message is freed at once (src/node-files/release-buffer.ts) and its
  // credit granted, so the object holds at most WINDOW chunks and no garbage of the ones gone.
  const pipe = new IdentityTransformStream();
  const writer = pipe.writable.getWriter();
  let received = 0;
  let failed = false;
  const fail = (error: Error) => {
    if (failed) return;
    failed = true;
    writer.abort(error).catch(() => undefined);
  };
  const handle = streams.open(conn, "files.read", { path }, WINDOW, {
    // Binary chunk frames (`src/protocol/chunk-frames.ts`): the bytes go on as they arrived.
    bytes: (chunk) => {
      received += chunk.length;
      writer.write(chunk).then(
        () => {
          releaseBuffer(chunk.buffer);
          handle.grant(1);
        },
        () => handle.stop(),
      );
    },
    end: (reason, error) => {
      if (reason === "eof" && received === expectedSize) writer.close().then(onComplete, () => undefined);
      else fail(new Error(error?.message ?? `download ended after ${received} of ${expectedSize} bytes`));
    },
  });
  writer.closed.catch(() => handle.stop());
  return pipe.readable;
}

/** The download as the client gets it: the streamed bytes with the agent's size, SHA-256 and name. */
export function downloadResponse(
  body: ReadableStream<Uint8Array>,
  file: { path: string; size: number; sha256: string },
): Response {
  const name = file.path.split("/").pop() || "file";
  return new Response(body, {
    headers: {
      "content-type": "application/octet-stream",
      "content-length": String(file.size),
      "x-checksum-sha256": file.sha256,
      "content-disposition": `attachment; filename="${name.replace(/["\\\r\n]/g, "_")}"`,
    },
  });
}
