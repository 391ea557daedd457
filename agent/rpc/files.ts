import { createHash, randomUUID } from "node:crypto";
import type { FileHandle } from "node:fs/promises";
import { chmod, lstat, mkdir, open, realpath, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { FILE_CHUNK_BYTES, type MethodParams, type StreamParams } from "../../src/protocol/reach-methods";
import type { FrameSink } from "../dispatcher";
import { TransferGarbage } from "../memory-release";
import type { Family } from "./family";
import { allowedPath, type ReachPolicy, RpcFailure, requestedPath, resolveAllowed } from "./policy";
import type { StreamSender } from "./stream-sender";

/** An upload that receives nothing for this long is abandoned and its temporary file deleted. */
const UPLOAD_IDLE_MS = 30_000;

/** Chunks the server may send ahead of the disk: the agent holds at most this many (512 KiB each, 4 MiB); 4 of 256 KiB left the socket idle for each credit's round trip. */
const UPLOAD_WINDOW = 8;

/** Download frames in flight (read, or queued in the socket): 3 × 512 KiB keeps the socket busy. */
const DOWNLOAD_FRAMES = 3;

interface Upload {
  handle: FileHandle;
  temp: string;
  dest: string;
  mode: number;
  overwrite: boolean;
  received: number;
  nextSeq: number;
  hash: ReturnType<typeof createHash>;
  idle: NodeJS.Timeout;
  /** Writes in arrival order; a commit waits for the last one. */
  writing: Promise<void>;
  failed?: RpcFailure;
}

const uploads = new Map<string, Upload>();
const uploadGarbage = new TransferGarbage();

function enabled(policy: ReachPolicy): void {
  if (!policy.files)
    throw new RpcFailure("policy", "file transfer is switched off on this host (OUTPOST_FILES=off)");
  if (policy.filePaths.length === 0)
    throw new RpcFailure("policy", "this host allows no file paths (set OUTPOST_FILE_PATHS)");
}

const modeText = (mode: number) => `0${(mode & 0o7777).toString(8).padStart(3, "0")}`;

/**
 * Read through one buffer, reused: a read stream's new 64 KiB buffer per read left a 50 MiB file's
 * worth of dead buffers outside V8's heap, which a GC takes only once ~64 MB have piled up.
 */
async function sha256Of(path: string): Promise<string> {
  const hash = createHash("sha256");
  const handle = await open(path, "r");
  try {
    const buffer = Buffer.allocUnsafe(FILE_CHUNK_BYTES);
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
    }
  } finally {
    await handle.close().catch(() => undefined);
  }
  return hash.digest("hex");
}

/** A regular file inside the allowed paths: its size, mode and SHA-256 (read once, before a download). */
async function fileStat(path: string, policy: ReachPolicy) {
  enabled(policy);
  const real = await resolveAllowed(policy, policy.filePaths, path);
  const info = await stat(real);
  if (!info.isFile())
    throw new RpcFailure(
      "bad_request",
      `${path} is not a regular file (directories, devices and FIFOs are refused)`,
    );
  return { path: real, size: info.size, mode: modeText(info.mode), sha256: await sha256Of(real) };
}

async function readStream(params: StreamParams<"files.read">, sender: StreamSender, policy: ReachPolicy) {
  enabled(policy);
  const real = await resolveAllowed(policy, policy.filePaths, params.path);
  const handle = await open(real, "r");
  try {
    if (!(await handle.stat()).isFile())
      throw new RpcFailure("bad_request", `${params.path} is not a regular file`);
    // Each chunk is read straight into its frame, behind the header, and handed to the socket as it
    // is (no copy). The frames are a ring of DOWNLOAD_FRAMES buffers, each read into again only once
    // the socket has written it: a new buffer per chunk left dead 512 KiB buffers outside V8's heap,
    // which a GC takes only once ~64 MB of them have piled up (a 50 MiB download peaked at ~95 MB).
    const header = sender.headerLength;
    const ring = Array.from({ length: DOWNLOAD_FRAMES }, () => ({
      frame: Buffer.allocUnsafe(header + FILE_CHUNK_BYTES),
      free: Promise.resolve(),
    }));
    for (let i = 0; ; i++) {
      const slot = ring[i % ring.length];
      await Promise.race([slot.free, sender.whenStopped]);
      if (sender.stopped) return;
      const { bytesRead } = await handle.read(slot.frame, header, FILE_CHUNK_BYTES, null);
      if (bytesRead === 0) return;
      let written!: () => void;
      slot.free = new Promise<void>((resolve) => (written = resolve));
      if (!(await sender.pushChunk(slot.frame.subarray(0, header + bytesRead), written))) return;
    }
  } finally {
    await handle.close().catch(() => undefined);
  }
}

function forget(id: string, upload: Upload): Promise<void> {
  uploads.delete(id);
  clearTimeout(upload.idle);
  return upload.handle
    .close()
    .catch(() => undefined)
    .then(() => rm(upload.temp, { force: true }));
}

function touch(id: string, upload: Upload): void {
  clearTimeout(upload.idle);
  upload.idle = setTimeout(() => void forget(id, upload), UPLOAD_IDLE_MS);
  upload.idle.unref?.();
}

async function writeOpen(params: MethodParams<"files.write_open">, policy: ReachPolicy) {
  enabled(policy);
  const dest = requestedPath(params.dest);
  if (!allowedPath(policy, policy.filePaths, dest))
    throw new RpcFailure("policy", `${dest} is outside the paths this host allows`);
  const dir = dirname(dest);
  if (params.create_dirs) await mkdir(dir, { recursive: true, mode: 0o755 });
  let realDir: string;
  try {
    realDir = await realpath(dir);
  } catch {
    throw new RpcFailure("not_found", `${dir} does not exist (create_dirs creates it)`);
  }
  if (!allowedPath(policy, policy.filePaths, realDir))
    throw new RpcFailure("policy", `${dir} resolves outside the paths this host allows`);
  const target = join(realDir, basename(dest));
  const existing = await lstat(target).catch(() => null);
  if (existing?.isSymbolicLink())
    throw new RpcFailure("bad_request", `${dest} is a symbolic link; it is not followed`);
  if (existing && !existing.isFile())
    throw new RpcFailure("bad_request", `${dest} exists and is not a regular file`);
  if (existing && !params.overwrite) throw new RpcFailure("conflict", `${dest} exists (overwrite is false)`);
  const id = randomUUID();
  // Beside the destination, so the final rename stays on one filesystem and is atomic.
  const temp = join(realDir, `.${basename(dest)}.outpost-upload-${id}`);
  const handle = await open(temp, "wx", 0o600);
  const upload: Upload = {
    handle,
    temp,
    dest: target,
    mode: params.mode,
    overwrite: params.overwrite,
    received: 0,
    nextSeq: 0,
    hash: createHash("sha256"),
    idle: setTimeout(() => undefined, 0),
    writing: Promise.resolve(),
  };
  uploads.set(id, upload);
  touch(id, upload);
  return { upload_id: id, credits: UPLOAD_WINDOW };
}

function uploadOf(id: string): Upload {
  const upload = uploads.get(id);
  if (!upload) throw new RpcFailure("not_found", "no such upload (it was abandoned after 30 s without data)");
  return upload;
}

/**
 * The next chunk of an upload (a server → agent binary chunk frame): written in order, each granting
 * the server one more chunk once it is on disk, so the agent never holds more than the window. A
 * write that fails drops the upload and tells the server (`stream_end` with the error).
 */
export function receiveChunk(streamId: string, seq: number, bytes: Uint8Array, send: FrameSink): void {
  const upload = uploads.get(streamId);
  if (!upload) {
    send({
      type: "stream_end",
      stream_id: streamId,
      reason: "error",
      error: { code: "not_found", message: "no such upload (abandoned after 30 s without data)" },
    });
    return;
  }
  if (upload.failed) return;
  const fail = (failure: RpcFailure) => {
    if (upload.failed) return;
    upload.failed = failure;
    send({
      type: "stream_end",
      stream_id: streamId,
      reason: "error",
      error: {
        code: failure.code,
        message: failure.message.slice(0, 1024),
      },
    });
    void forget(streamId, upload);
  };
  if (seq !== upload.nextSeq) {
    fail(new RpcFailure("bad_request", `chunk ${seq}, expected ${upload.nextSeq}`));
    return;
  }
  upload.nextSeq++;
  touch(streamId, upload);
  upload.writing = upload.writing.then(async () => {
    if (upload.failed) return;
    try {
      await upload.handle.write(bytes, 0, bytes.length, upload.received);
      upload.hash.update(bytes);
      upload.received += bytes.length;
      uploadGarbage.moved(bytes.length);
      touch(streamId, upload);
      send({ type: "stream_credit", stream_id: streamId, credits: 1 });
    } catch (error) {
      fail(error instanceof RpcFailure ? error : new RpcFailure("internal", (error as Error).message));
    }
  });
}

async function writeCommit(params: MethodParams<"files.write_commit">) {
  const upload = uploadOf(params.upload_id);
  await upload.writing;
  if (upload.failed) throw upload.failed;
  const digest = upload.hash.digest("hex");
  if (upload.received !== params.size || digest !== params.sha256) {
    await forget(params.upload_id, upload);
    throw new RpcFailure(
      "bad_request",
      `received ${upload.received} bytes with SHA-256 ${digest}; expected ${params.size} and ${params.sha256}`,
    );
  }
  await upload.handle.sync();
  await upload.handle.chmod(upload.mode);
  await upload.handle.close();
  const existing = await lstat(upload.dest).catch(() => null);
  if (existing && (!upload.overwrite || existing.isSymbolicLink() || !existing.isFile())) {
    await forget(params.upload_id, upload);
    throw new RpcFailure("conflict", `${upload.dest} appeared meanwhile`);
  }
  await rename(upload.temp, upload.dest);
  uploads.delete(params.upload_id);
  clearTimeout(upload.idle);
  await chmod(upload.dest, upload.mode);
  return { path: upload.dest, size: upload.received, mode: modeText(upload.mode), sha256: digest };
}

/** The server forgot every upload (the socket closed): their temporary files go now, not after the idle timeout. */
export async function abortAllUploads(): Promise<void> {
  await Promise.all([...uploads].map(([id, upload]) => forget(id, upload)));
}

export const family: Family = {
  disconnected: abortAllUploads,
  receive: receiveChunk,
  async call(method, params, policy) {
    switch (method) {
      case "files.stat":
        return fileStat((params as MethodParams<"files.stat">).path, policy);
      case "files.write_open":
        return writeOpen(params as MethodParams<"files.write_open">, policy);
      case "files.write_commit":
        return writeCommit(params as MethodParams<"files.write_commit">);
      case "files.write_abort": {
        const id = (params as MethodParams<"files.write_abort">).upload_id;
        const upload = uploads.get(id);
        if (upload) await forget(id, upload);
        return {};
      }
      default:
        throw new RpcFailure("unsupported", `${method} is not a files method`);
    }
  },
  async stream(kind, params, sender, policy) {
    if (kind !== "files.read") throw new RpcFailure("unsupported", `${kind} is not a files stream`);
    return readStream(params as StreamParams<"files.read">, sender, policy);
  },
};
