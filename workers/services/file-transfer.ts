import * as v from "valibot";
import type { RpcOutcome } from "../../durable-objects/node-session/rpc";
import type { Env } from "../../src/config";
import { loadConfig } from "../../src/config";
import type { Database } from "../../src/db/client";
import { ApiError, issuesToDetails } from "../../src/errors";
import {
  MultipartError,
  type MultipartUpload,
  multipartBoundary,
  readMultipartUpload,
} from "../../src/node-files/multipart";
import { releaseBuffer } from "../../src/node-files/release-buffer";
import { FileUploadFields, type FileUploadResult } from "../../src/node-files/schema";
import { getNode } from "../../src/nodes/store";
import type { MethodResult } from "../../src/protocol/reach-methods";
import { unwrap } from "./node-reach";
import { nodeSession } from "./node-sessions";

// Room for the multipart framing and the text fields around the file's bytes.
const MULTIPART_OVERHEAD = 64 * 1024;

function tooLarge(max: number): ApiError {
  return new ApiError("payload_too_large", `The file is larger than FILE_TRANSFER_MAX_BYTES (${max} bytes)`);
}

/**
 * A node's file as a download (`Content-Length`, `X-Checksum-Sha256`), streamed from its agent.
 * The node's session records `edge.file_transfer.completed` once every byte went out.
 */
export async function downloadFile(env: Env, db: Database, nodeId: string, path: string): Promise<Response> {
  await getNode(db, nodeId);
  const { response } = unwrap(await nodeSession(env, nodeId).download(path));
  const length = Number(response.headers.get("content-length"));
  if (!response.body || !Number.isFinite(length)) return response;
  // A stream of unknown length leaves chunked, without Content-Length: a fixed-length one keeps it
  // (and errors the body if the agent sent fewer or more bytes than it announced).
  const fixed = new FixedLengthStream(length);
  void response.body.pipeTo(fixed.writable).catch(() => undefined);
  return new Response(fixed.readable, { status: 200, headers: response.headers });
}

/**
 * Streams a multipart upload (`dest`, `mode`, `overwrite`, `create_dirs`, then `file`) to a node's
 * agent: the request body is read part by part and the file's bytes go on through the node's session
 * in chunks paced by the agent, so neither the Worker nor the object holds the file. The agent writes
 * a temporary file beside `dest`, checks size and SHA-256, then renames it; any failure aborts it.
 */
export async function uploadFile(
  env: Env,
  db: Database,
  nodeId: string,
  request: Request,
): Promise<FileUploadResult> {
  await getNode(db, nodeId);
  const max = loadConfig(env).fileTransferMaxBytes;
  const boundary = multipartBoundary(request.headers.get("content-type"));
  if (!boundary) throw new ApiError("unsupported_media_type", "Content-Type must be multipart/form-data");
  if (Number(request.headers.get("content-length") ?? "0") > max + MULTIPART_OVERHEAD) throw tooLarge(max);
  if (!request.body) throw new ApiError("bad_request", "Malformed multipart body", { body: ["is empty"] });
  let upload: MultipartUpload;
  try {
    upload = await readMultipartUpload(request.body, boundary, "file");
  } catch (error) {
    throw malformed(error);
  }
  const { fields, file } = upload;
  const parsed = v.safeParse(FileUploadFields, fields);
  const details = parsed.success ? {} : issuesToDetails(parsed.issues);
  if (!file) details.file = ["a file part is required"];
  // The file streams on as it arrives, so the fields must come first (curl: -F dest=… -F file=@…).
  else if (fields.dest === undefined)
    details.file = ["must come after dest (and mode, overwrite, create_dirs)"];
  if (!parsed.success || !file) {
    await file?.cancel().catch(() => undefined);
    throw new ApiError("validation_failed", "Validation failed", details);
  }
  const body = new UploadBody(file);
  let outcome: RpcOutcome<MethodResult<"files.write_commit">>;
  try {
    outcome = await nodeSession(env, nodeId).upload(parsed.output, body.stream);
  } catch (error) {
    await body.drain(max + MULTIPART_OVERHEAD);
    throw body.error ? malformed(body.error) : error;
  }
  if (outcome.status !== "ok") {
    // Read what the client still sends before answering: a client cut off while sending (an early
    // 409 or 413) sees a broken pipe instead of the answer. Bounded, and nothing of it is kept.
    await body.drain(max + MULTIPART_OVERHEAD);
    // The parser's own error (fields after the file, a cut body) says more than the object's.
    if (outcome.status === "error" && outcome.code === "bad_request" && body.error)
      throw malformed(body.error);
  }
  return unwrap(outcome);
}

function malformed(error: unknown): ApiError {
  if (error instanceof MultipartError)
    return new ApiError("bad_request", "Malformed multipart body", { body: [error.message] });
  return new ApiError("bad_request", "Malformed multipart body", {
    body: [String((error as Error)?.message ?? error)],
  });
}

/**
 * The file part as the node's session reads it: a native pipe the file's chunks are written to one
 * at a time, each freed once the object took it (src/node-files/release-buffer.ts) rather than at the
 * next garbage collection. The object cancelling it (a failed upload) does not cancel the request
 * body: `drain` reads the rest of it. A reading error is kept for the answer.
 */
class UploadBody {
  readonly stream: ReadableStream<Uint8Array>;
  error: unknown;
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  #done = false;

  constructor(file: ReadableStream<Uint8Array>) {
    this.#reader = file.getReader();
    const pipe = new IdentityTransformStream();
    this.stream = pipe.readable;
    void this.#pump(pipe.writable.getWriter());
  }

  async #pump(writer: WritableStreamDefaultWriter<Uint8Array>): Promise<void> {
    try {
      for (;;) {
        const next = await this.#read();
        if (this.error) return await writer.abort(this.error);
        if (!next) return await writer.close();
        await writer.write(next);
        // The multipart reader's chunks are its own copies: nobody reads this one any more.
        releaseBuffer(next.buffer);
      }
    } catch {
      // the object cancelled the stream (a failed upload): `drain` reads what is left
    }
  }

  async #read(): Promise<Uint8Array | null> {
    if (this.#done) return null;
    try {
      const next = await this.#reader.read();
      if (next.done) this.#done = true;
      return next.done ? null : next.value;
    } catch (error) {
      this.error ??= error;
      this.#done = true;
      return null;
    }
  }

  /** Reads and drops the rest of the body, up to `limit` bytes (then it is cancelled). */
  async drain(limit: number): Promise<void> {
    let read = 0;
    while (read <= limit) {
      const next = await this.#read();
      if (!next) return;
      read += next.length;
    }
    this.#done = true;
    await this.#reader.cancel().catch(() => undefined);
  }
}
