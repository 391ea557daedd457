import * as v from "valibot";
import type { Env } from "../../src/config";
import { loadConfig } from "../../src/config";
import type { Database } from "../../src/db/client";
import { ApiError, issuesToDetails } from "../../src/errors";
import { FileUploadFields, type FileUploadResult } from "../../src/node-files/schema";
import { getNode } from "../../src/nodes/store";
import { FILE_CHUNK_BYTES } from "../../src/protocol/reach-methods";
import { callSession, unwrap } from "./node-reach";
import { nodeSession } from "./node-sessions";

// Room for the multipart framing and the text fields around the file's bytes.
const MULTIPART_OVERHEAD = 64 * 1024;

function base64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000)
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

function hex(buffer: ArrayBuffer): string {
  return [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function tooLarge(max: number): ApiError {
  return new ApiError("payload_too_large", `The file is larger than FILE_TRANSFER_MAX_BYTES (${max} bytes)`);
}

/** A node's file as a download (`Content-Length`, `X-Checksum-Sha256`), streamed from its agent. */
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
 * Sends a multipart upload (`file`, `dest`, `mode`, `overwrite`, `create_dirs`) to a node's agent in
 * chunks: it writes a temporary file beside `dest`, checks size and SHA-256, then renames it. Any
 * failure on the way aborts the upload, so nothing is left behind.
 */
export async function uploadFile(
  env: Env,
  db: Database,
  nodeId: string,
  request: Request,
): Promise<FileUploadResult> {
  await getNode(db, nodeId);
  const max = loadConfig(env).fileTransferMaxBytes;
  if (!/^multipart\/form-data\b/i.test(request.headers.get("content-type") ?? ""))
    throw new ApiError("unsupported_media_type", "Content-Type must be multipart/form-data");
  if (Number(request.headers.get("content-length") ?? "0") > max + MULTIPART_OVERHEAD) throw tooLarge(max);
  let form: FormData;
  try {
    form = await request.formData();
  } catch (error) {
    throw new ApiError("bad_request", "Malformed multipart body", { body: [(error as Error).message] });
  }
  const file = form.get("file");
  const fields = v.safeParse(FileUploadFields, {
    dest: form.get("dest") ?? undefined,
    mode: form.get("mode") ?? undefined,
    overwrite: form.get("overwrite") ?? undefined,
    create_dirs: form.get("create_dirs") ?? undefined,
  });
  const details = fields.success ? {} : issuesToDetails(fields.issues);
  if (!(file instanceof File)) details.file = ["a file part is required"];
  if (!fields.success || !(file instanceof File))
    throw new ApiError("validation_failed", "Validation failed", details);
  if (file.size > max) throw tooLarge(max);
  const bytes = new Uint8Array(await file.arrayBuffer());
  const sha256 = hex(await crypto.subtle.digest("SHA-256", bytes));
  const session = nodeSession(env, nodeId);
  const { upload_id } = await callSession(session, "files.write_open", {
    dest: fields.output.dest,
    mode: fields.output.mode,
    overwrite: fields.output.overwrite,
    create_dirs: fields.output.create_dirs,
    size: bytes.length,
    sha256,
  });
  try {
    for (let offset = 0; offset < bytes.length; offset += FILE_CHUNK_BYTES) {
      const data = base64(bytes.subarray(offset, offset + FILE_CHUNK_BYTES));
      await callSession(session, "files.write_chunk", { upload_id, offset, data });
    }
    return await callSession(session, "files.write_commit", { upload_id });
  } catch (error) {
    await session.reach("files.write_abort", { upload_id }).catch(() => undefined);
    throw error;
  }
}
