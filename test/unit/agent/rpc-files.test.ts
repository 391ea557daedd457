import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { abortAllUploads, family } from "../../../agent/rpc/files";
import { type ReachPolicy, RpcFailure } from "../../../agent/rpc/policy";
import { StreamSender } from "../../../agent/rpc/stream-sender";
import { decodeChunkFrame } from "../../../src/protocol/chunk-frames";
import { FILE_CHUNK_BYTES } from "../../../src/protocol/reach-methods";

// The agent's file methods against a real temporary directory: what is left on disk after each path.

let root: string;
let policy: ReachPolicy;
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

async function open(
  dest: string,
  _bytes: Buffer,
  extra: Partial<{ overwrite: boolean; create_dirs: boolean }> = {},
) {
  return (await family.call(
    "files.write_open",
    { dest, mode: 0o640, overwrite: false, create_dirs: false, ...extra },
    policy,
  )) as { upload_id: string; credits: number };
}

/** What the agent sent back while receiving chunks (`stream_credit`, `stream_end`). */
const sent: { type: string; credits?: number; error?: { code: string } }[] = [];
const sink = (frame: unknown) => {
  sent.push(frame as (typeof sent)[number]);
  return true;
};

/** Server → agent binary chunks (their bytes), then a commit that waits for them to be on disk. */
function chunks(upload_id: string, parts: Buffer[], firstSeq = 0) {
  for (const [i, part] of parts.entries()) family.receive?.(upload_id, firstSeq + i, part, sink);
}

async function code(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return "ok";
  } catch (error) {
    return error instanceof RpcFailure ? error.code : `threw ${(error as Error).message}`;
  }
}

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "outpost-rpc-files-"));
  await mkdir(join(root, "allowed"));
  await mkdir(join(root, "state"));
  policy = {
    files: true,
    signals: true,
    logs: true,
    docker: false,
    dockerSocket: "/var/run/docker.sock",
    filePaths: [join(root, "allowed")],
    logPaths: [],
    stateDir: join(root, "state"),
  };
});

afterEach(async () => {
  await abortAllUploads();
  await rm(root, { recursive: true, force: true });
});

describe("agent file uploads", () => {
  it("writes through a temporary file and renames it only when size and SHA-256 match", async () => {
    const bytes = Buffer.from("hello outpost\n");
    const dest = join(root, "allowed", "greeting.txt");
    const { upload_id, credits } = await open(dest, bytes);
    expect(credits).toBeGreaterThan(0);
    sent.length = 0;
    chunks(upload_id, [bytes.subarray(0, 5), bytes.subarray(5)]);
    await new Promise((r) => setTimeout(r, 50));
    expect(await readdir(join(root, "allowed"))).toHaveLength(1); // only the temporary file so far
    expect(sent).toEqual([
      { type: "stream_credit", stream_id: upload_id, credits: 1 },
      { type: "stream_credit", stream_id: upload_id, credits: 1 },
    ]);
    const done = await family.call(
      "files.write_commit",
      { upload_id, size: bytes.length, sha256: sha(bytes) },
      policy,
    );
    expect(done).toEqual({ path: dest, size: bytes.length, mode: "0640", sha256: sha(bytes) });
    expect(await readFile(dest, "utf8")).toBe("hello outpost\n");
    expect(await readdir(join(root, "allowed"))).toEqual(["greeting.txt"]);
  });

  it("leaves nothing behind when the checksum differs or the socket closes midway", async () => {
    const bytes = Buffer.alloc(1000, 1);
    const bad = await open(join(root, "allowed", "bad.bin"), bytes);
    chunks(bad.upload_id, [Buffer.alloc(1000, 2)]);
    expect(
      await code(
        family.call(
          "files.write_commit",
          { upload_id: bad.upload_id, size: bytes.length, sha256: sha(bytes) },
          policy,
        ),
      ),
    ).toBe("bad_request");
    const gap = await open(join(root, "allowed", "gap.bin"), bytes);
    sent.length = 0;
    chunks(gap.upload_id, [bytes.subarray(0, 10)], 1); // seq 1 before seq 0: dropped, and said so
    expect(sent).toMatchObject([{ type: "stream_end", reason: "error", error: { code: "bad_request" } }]);
    const cut = await open(join(root, "allowed", "cut.bin"), bytes);
    chunks(cut.upload_id, [bytes.subarray(0, 500)]);
    await new Promise((r) => setTimeout(r, 50));
    await family.disconnected?.();
    await new Promise((r) => setTimeout(r, 50));
    expect(await readdir(join(root, "allowed"))).toEqual([]);
  });

  it("refuses an existing file without overwrite, a symlink at dest, paths outside the list and the state dir", async () => {
    const bytes = Buffer.from("x");
    await writeFile(join(root, "allowed", "taken"), "old");
    expect(await code(open(join(root, "allowed", "taken"), bytes))).toBe("conflict");
    await symlink("/etc/passwd", join(root, "allowed", "link"));
    expect(await code(open(join(root, "allowed", "link"), bytes, { overwrite: true }))).toBe("bad_request");
    expect(await code(open(join(root, "elsewhere.txt"), bytes))).toBe("policy");
    policy.filePaths.push(root);
    expect(await code(open(join(root, "state", "identity.json"), bytes))).toBe("policy");
    expect(await code(family.call("files.stat", { path: join(root, "allowed") }, policy))).toBe(
      "bad_request",
    );
    expect(await code(family.call("files.stat", { path: join(root, "allowed", "link") }, policy))).toBe(
      "policy",
    );
    expect(
      await code(
        family.call("files.stat", { path: join(root, "allowed", "taken") }, { ...policy, files: false }),
      ),
    ).toBe("policy");
  });
});

describe("agent file downloads", () => {
  it("sends the file as binary chunk frames in order, one per credit, waiting for the socket to drain", async () => {
    const bytes = Buffer.alloc(FILE_CHUNK_BYTES * 2 + 1000);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7) & 0xff;
    const path = join(root, "allowed", "big.bin");
    await writeFile(path, bytes);
    const frames: Buffer[] = [];
    let drains = 0;
    const sender = new StreamSender("s-1", 2, sink, {
      // The socket keeps each frame until written; this one copies it, as a socket may not.
      send: (frame, written) => {
        frames.push(Buffer.from(frame));
        setImmediate(() => written?.());
        return true;
      },
      drained: async () => {
        drains++;
      },
    });
    const reading = family.stream?.("files.read", { path }, sender, policy);
    await new Promise((r) => setTimeout(r, 50));
    expect(frames).toHaveLength(2); // two credits: the third chunk waits for a grant
    sender.grant(1);
    await reading;
    const decoded = frames.map((f) => decodeChunkFrame(f));
    expect(decoded.map((d) => ("seq" in d ? [d.streamId, d.seq, d.bytes.length] : d))).toEqual([
      ["s-1", 0, FILE_CHUNK_BYTES],
      ["s-1", 1, FILE_CHUNK_BYTES],
      ["s-1", 2, 1000],
    ]);
    const joined = Buffer.concat(decoded.map((d) => ("bytes" in d ? d.bytes : Buffer.alloc(0))));
    expect(sha(joined)).toBe(sha(bytes));
    expect(drains).toBe(3);
  });

  it("holds at most three frames: the next chunk is read only once the socket has written one", async () => {
    const chunks = 10;
    const bytes = Buffer.alloc(FILE_CHUNK_BYTES * chunks);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 13) & 0xff;
    const path = join(root, "allowed", "ring.bin");
    await writeFile(path, bytes);
    // A socket that writes nothing until told: what it holds is what the agent holds.
    const held: { frame: Buffer; written?: () => void }[] = [];
    const seen = new Set<ArrayBufferLike>();
    const received: Buffer[] = [];
    const sender = new StreamSender("s-2", 1000, sink, {
      send: (frame, written) => {
        const view = Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
        seen.add(view.buffer);
        held.push({ frame: view, written });
        return true;
      },
      drained: async () => undefined,
    });
    const reading = family.stream?.("files.read", { path }, sender, policy);
    let writtenCount = 0;
    while (writtenCount < chunks) {
      await new Promise((r) => setTimeout(r, 20));
      // However many credits the server gave, no more than three frames wait in the socket.
      expect(held.length).toBeLessThanOrEqual(3);
      const next = held.shift();
      if (!next) continue;
      const d = decodeChunkFrame(Buffer.from(next.frame));
      if ("bytes" in d) received.push(Buffer.from(d.bytes));
      writtenCount++;
      next.written?.();
    }
    await reading;
    expect(sha(Buffer.concat(received))).toBe(sha(bytes));
    expect(seen.size).toBe(3); // three buffers, reused, for ten chunks
  });
});
