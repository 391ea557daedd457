import type { Connection } from "partyserver";
import type { AgentStreams } from "./streams";

/**
 * Chunks the agent may send ahead of the reader (FILE_CHUNK_BYTES, 512 KiB, each): the object holds at
 * most this many per download (4 MiB), whatever the file's size. Fewer were too few to cover the
 * credit's round trip through the agent's disk read and the socket, so the pipe sat idle between chunks.
 */
const WINDOW = 8;

/**
 * A file's bytes as a stream read from the agent in `files.read` chunks. Each chunk the reader takes
 * grants the agent one more frame, so memory stays flat however large the file or slow the client.
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
  let received = 0;
  let handle: ReturnType<AgentStreams["open"]> | undefined;
  return new ReadableStream<Uint8Array>(
    {
      start: (controller) => {
        handle = streams.open(conn, "files.read", { path }, WINDOW, {
          // Binary chunk frames (`src/protocol/chunk-frames.ts`): the bytes go on as they arrived.
          bytes: (chunk) => {
            received += chunk.length;
            controller.enqueue(chunk);
          },
          end: (reason, error) => {
            if (reason === "eof" && received === expectedSize) {
              controller.close();
              onComplete();
            } else
              controller.error(
                new Error(error?.message ?? `download ended after ${received} of ${expectedSize} bytes`),
              );
          },
        });
      },
      pull: () => handle?.grant(1),
      cancel: () => handle?.stop(),
    },
    // Pull (and so grant a credit) as soon as the reader takes a chunk; the window bounds what waits.
    { highWaterMark: 1 },
  );
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
