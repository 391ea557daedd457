import { and, eq, sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { events } from "../../src/db/schema";
import { decodeChunkFrame, encodeChunkFrame } from "../../src/protocol/chunk-frames";
import { type connectAgent, connectedAgent } from "./agent-session";
import { api, db, makeCluster, P, setUpNodes, startNodesFile } from "./nodes-fixture";

startNodesFile();

type Agent = Awaited<ReturnType<typeof connectAgent>>;

/** The fake agent's side: JSON reach frames, and binary chunk frames as `{type: "chunk", …}`, in order. */
function serve(agent: Agent, on: (frame: any) => void) {
  // The test's socket hands binary messages over as Blobs: read in arrival order through one chain.
  let order = Promise.resolve();
  agent.ws.addEventListener("message", (e) => {
    const data = e.data as string | ArrayBuffer | Blob;
    order = order.then(async () => {
      if (typeof data !== "string") {
        const chunk = decodeChunkFrame(data instanceof Blob ? await data.arrayBuffer() : data);
        if ("error" in chunk) throw new Error(chunk.error);
        return on({ type: "chunk", stream_id: chunk.streamId, seq: chunk.seq, bytes: chunk.bytes });
      }
      const frame = JSON.parse(data);
      if (frame.type === "rpc" || frame.type.startsWith("stream_")) on(frame);
    });
  });
}

function connected(capabilities: string[] = ["files.v1", "files.v3"]) {
  return connectedAgent(api, `${P}-c`, capabilities);
}

async function sha256(bytes: Uint8Array): Promise<string> {
  return [...new Uint8Array(await crypto.subtle.digest("SHA-256", bytes))]
    .map((b) => b.toString(16).padStart(2, "0"))
    .join("");
}

// The fields come before the file: the Worker streams the file on and cannot wait for later fields.
function form(bytes: Uint8Array, fields: Record<string, string>) {
  const body = new FormData();
  for (const [k, v] of Object.entries(fields)) body.set(k, v);
  body.set("file", new File([bytes], "payload.bin"));
  return body;
}

async function transferEvents(nodeId: string) {
  const rows = await db
    .select()
    .from(events)
    .where(
      and(
        eq(events.type, "edge.file_transfer.completed"),
        sql`json_extract(${events.data}, '$.node_id') = ${nodeId}`,
      ),
    );
  return rows.map((r) => JSON.parse(r.data as unknown as string));
}

beforeAll(async () => {
  await setUpNodes();
  await makeCluster(`${P}-c`);
});

describe("node file download", () => {
  it("streams the agent's binary chunks with Content-Length and the agent's checksum, granting credits as the client reads", async () => {
    const { nodeId, agent } = await connected();
    // More chunks than the object's window (8), so it must grant credits for the rest; and more
    // frames than NODE_FRAME_BURST (200), which paced chunks do not spend.
    const chunks = Array.from({ length: 240 }, (_, i) => new Uint8Array(1000).fill(i));
    const all = new Uint8Array(240_000);
    for (const [i, c] of chunks.entries()) all.set(c, i * 1000);
    const digest = await sha256(all);
    const frames: any[] = [];
    let streamId = "";
    let sent = 0;
    let credits = 0;
    const pump = () => {
      while (credits > 0 && sent < chunks.length) {
        credits--;
        agent.ws.send(encodeChunkFrame(streamId, sent, chunks[sent]));
        sent++;
      }
      if (sent === chunks.length) agent.send({ type: "stream_end", stream_id: streamId, reason: "eof" });
    };
    serve(agent, (frame) => {
      frames.push(frame);
      if (frame.type === "rpc")
        agent.send({
          type: "rpc_result",
          id: frame.id,
          ok: true,
          result: { path: "/srv/data.bin", size: 240_000, mode: "0644", sha256: digest },
        });
      if (frame.type === "stream_start") {
        streamId = frame.stream_id;
        credits = frame.credits;
        pump();
      }
      if (frame.type === "stream_credit") {
        credits += frame.credits;
        pump();
      }
    });
    const res = await api.fetch(`/api/v1/nodes/${nodeId}/files?path=/srv/data.bin`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-length")).toBe("240000");
    expect(res.headers.get("x-checksum-sha256")).toBe(digest);
    const body = new Uint8Array(await res.arrayBuffer());
    expect(await sha256(body)).toBe(digest);
    const start = frames.find((f) => f.type === "stream_start");
    expect(start).toMatchObject({ kind: "files.read", params: { path: "/srv/data.bin" } });
    expect(start.credits).toBeLessThan(chunks.length);
    expect(frames.filter((f) => f.type === "stream_credit").length).toBeGreaterThan(0);
    const audit = await api.get(`/api/v1/audit_events?event=file.read&resource_id=${nodeId}`);
    expect(audit.body.data).toHaveLength(1);
    await expect
      .poll(() => transferEvents(nodeId))
      .toEqual([
        { node_id: nodeId, direction: "download", path: "/srv/data.bin", size: 240_000, sha256: digest },
      ]);
    agent.ws.close(1000, "bye");
  });

  it("cuts the download and stops the stream when the agent's chunks come out of order", async () => {
    const { nodeId, agent } = await connected();
    const frames: any[] = [];
    serve(agent, (frame) => {
      frames.push(frame);
      if (frame.type === "rpc")
        agent.send({
          type: "rpc_result",
          id: frame.id,
          ok: true,
          result: { path: "/srv/flood.bin", size: 1_000_000, mode: "0644", sha256: "0".repeat(64) },
        });
      if (frame.type === "stream_start")
        for (const seq of [0, 2]) agent.ws.send(encodeChunkFrame(frame.stream_id, seq, new Uint8Array(100)));
    });
    // The headers went out (200); the body errors, so reading it (the harness does) fails.
    await expect(api.fetch(`/api/v1/nodes/${nodeId}/files?path=/srv/flood.bin`)).rejects.toThrow(
      /prematurely|out of order/,
    );
    await expect.poll(() => frames.some((f) => f.type === "stream_stop")).toBe(true);
    expect(await transferEvents(nodeId)).toEqual([]);
    agent.ws.close(1000, "bye");
  });

  it("answers 413 past FILE_TRANSFER_MAX_BYTES and 400 without a path", async () => {
    const { nodeId, agent } = await connected();
    serve(agent, (frame) => {
      if (frame.type === "rpc")
        agent.send({
          type: "rpc_result",
          id: frame.id,
          ok: true,
          result: { path: "/srv/big", size: 2 * 1024 * 1024, mode: "0644", sha256: "0".repeat(64) },
        });
    });
    const res = await api.get(`/api/v1/nodes/${nodeId}/files?path=/srv/big`);
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe("payload_too_large");
    expect((await api.get(`/api/v1/nodes/${nodeId}/files`)).status).toBe(400);
    expect((await api.get(`/api/v1/nodes/${nodeId}/files?path=relative`)).status).toBe(400);
    agent.ws.close(1000, "bye");
  });
});

describe("node file upload", () => {
  it("streams the file as binary chunk frames paced by the agent's credits, then commits with size and SHA-256", async () => {
    const { nodeId, agent } = await connected();
    const bytes = new Uint8Array(600 * 1024).map((_, i) => i % 251);
    const digest = await sha256(bytes);
    const calls: any[] = [];
    const seqs: number[] = [];
    let received: number[] = [];
    let ahead = 0;
    let mostAhead = 0;
    serve(agent, (frame) => {
      if (frame.type === "chunk") {
        expect(frame.stream_id).toBe("u1");
        seqs.push(frame.seq);
        ahead++;
        mostAhead = Math.max(mostAhead, ahead);
        received = received.concat([...frame.bytes]);
        // The "disk" is slow: the credit comes later, and the object must wait for it.
        setTimeout(() => {
          ahead--;
          agent.send({ type: "stream_credit", stream_id: frame.stream_id, credits: 1 });
        }, 30);
        return;
      }
      if (frame.type !== "rpc") return;
      calls.push(frame);
      const result =
        frame.method === "files.write_open"
          ? { upload_id: "u1", credits: 1 }
          : { path: "/srv/up.bin", size: bytes.length, mode: "0600", sha256: digest };
      agent.send({ type: "rpc_result", id: frame.id, ok: true, result });
    });
    const res = await api.fetch(`/api/v1/nodes/${nodeId}/files`, {
      method: "POST",
      body: form(bytes, { dest: "/srv/up.bin", mode: "0600", overwrite: "true" }),
    });
    expect(res.status, await res.clone().text()).toBe(201);
    expect((await res.json<any>()).data).toEqual({
      path: "/srv/up.bin",
      size: bytes.length,
      mode: "0600",
      sha256: digest,
    });
    expect(calls.map((c) => c.method)).toEqual(["files.write_open", "files.write_commit"]);
    expect(calls[0].params).toEqual({
      dest: "/srv/up.bin",
      mode: 0o600,
      overwrite: true,
      create_dirs: false,
    });
    expect(calls[1].params).toEqual({ upload_id: "u1", size: bytes.length, sha256: digest });
    expect(seqs).toEqual([0, 1]); // 600 KiB in chunks of 512 KiB
    expect(mostAhead).toBe(1);
    expect(await sha256(Uint8Array.from(received))).toBe(digest);
    const audit = await api.get(`/api/v1/audit_events?event=file.created&resource_id=${nodeId}`);
    expect(audit.body.data).toHaveLength(1);
    expect(audit.body.data[0].details).toMatchObject({ path: "/srv/up.bin", sha256: digest });
    expect(await transferEvents(nodeId)).toEqual([
      { node_id: nodeId, direction: "upload", path: "/srv/up.bin", size: bytes.length, sha256: digest },
    ]);
    agent.ws.close(1000, "bye");
  });

  it("refuses an upload and a download to an agent without files.v3 (binary chunks) with 409 agent_outdated, sending it nothing", async () => {
    const { nodeId, agent } = await connected(["files.v1", "files.v2"]);
    const frames: any[] = [];
    serve(agent, (frame) => frames.push(frame));
    const res = await api.fetch(`/api/v1/nodes/${nodeId}/files`, {
      method: "POST",
      body: form(new Uint8Array(1024), { dest: "/srv/old.bin" }),
    });
    expect(res.status).toBe(409);
    const body = await res.json<any>();
    expect(body.error.code).toBe("conflict");
    expect(body.error.details).toEqual({ capability: ["files.v3"], reason: ["agent_outdated"] });
    const down = await api.get(`/api/v1/nodes/${nodeId}/files?path=/srv/old.bin`);
    expect(down.status).toBe(409);
    expect(down.body.error.details).toEqual({ capability: ["files.v3"], reason: ["agent_outdated"] });
    expect(frames).toEqual([]);
    agent.ws.close(1000, "bye");
  });

  it("aborts the upload when the agent drops it midway, and maps an existing file to 409", async () => {
    const { nodeId, agent } = await connected();
    const methods: string[] = [];
    serve(agent, (frame) => {
      if (frame.type === "chunk")
        return agent.send({
          type: "stream_end",
          stream_id: frame.stream_id,
          reason: "error",
          error: { code: "internal", message: "disk full" },
        });
      if (frame.type !== "rpc") return;
      methods.push(frame.method);
      if (frame.params.dest === "/srv/exists")
        return agent.send({
          type: "rpc_result",
          id: frame.id,
          ok: false,
          error: { code: "conflict", message: "exists" },
        });
      if (frame.method === "files.write_open")
        return agent.send({
          type: "rpc_result",
          id: frame.id,
          ok: true,
          result: { upload_id: "u2", credits: 1 },
        });
      agent.send({ type: "rpc_result", id: frame.id, ok: true, result: {} });
    });
    const bytes = new Uint8Array(600 * 1024).fill(7);
    const conflict = await api.fetch(`/api/v1/nodes/${nodeId}/files`, {
      method: "POST",
      body: form(bytes, { dest: "/srv/exists" }),
    });
    expect(conflict.status).toBe(409);
    const failed = await api.fetch(`/api/v1/nodes/${nodeId}/files`, {
      method: "POST",
      body: form(bytes, { dest: "/srv/new" }),
    });
    expect(failed.status).toBe(503);
    expect(methods).toEqual(["files.write_open", "files.write_open", "files.write_abort"]);
    expect(await transferEvents(nodeId)).toEqual([]);
    agent.ws.close(1000, "bye");
  });

  it("stops at FILE_TRANSFER_MAX_BYTES while streaming (413, aborted on the agent) even without Content-Length", async () => {
    const { nodeId, agent } = await connected();
    const methods: string[] = [];
    let chunks = 0;
    serve(agent, (frame) => {
      if (frame.type === "chunk") {
        chunks++;
        return agent.send({ type: "stream_credit", stream_id: frame.stream_id, credits: 1 });
      }
      if (frame.type !== "rpc") return;
      methods.push(frame.method);
      const result = frame.method === "files.write_open" ? { upload_id: "u3", credits: 2 } : {};
      agent.send({ type: "rpc_result", id: frame.id, ok: true, result });
    });
    // A body of unknown length (chunked): only counting the bytes as they pass can stop it.
    const encoded = new Request("http://x/", {
      method: "POST",
      body: form(new Uint8Array(3 * 1024 * 1024), { dest: "/srv/big" }),
    });
    const type = encoded.headers.get("content-type") as string;
    const raw = new Uint8Array(await encoded.arrayBuffer());
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let at = 0; at < raw.length; at += 64 * 1024) controller.enqueue(raw.slice(at, at + 64 * 1024));
        controller.close();
      },
    });
    const res = await api.fetch(`/api/v1/nodes/${nodeId}/files`, {
      method: "POST",
      headers: { "content-type": type },
      body,
      duplex: "half",
    } as RequestInit);
    expect(res.status, await res.clone().text()).toBe(413);
    expect(methods).toEqual(["files.write_open", "files.write_abort"]);
    expect(chunks).toBeLessThanOrEqual(4);
    agent.ws.close(1000, "bye");
  });

  it("refuses a declared length past FILE_TRANSFER_MAX_BYTES (413), a JSON body (415), missing fields (422) and a file before its fields (422) before any agent call", async () => {
    const { nodeId, agent } = await connected();
    let calls = 0;
    serve(agent, () => calls++);
    const encoded = new Request("http://x/", {
      method: "POST",
      body: form(new Uint8Array(2 * 1024 * 1024), { dest: "/srv/big" }),
    });
    const raw = await encoded.arrayBuffer();
    const big = await api.fetch(`/api/v1/nodes/${nodeId}/files`, {
      method: "POST",
      headers: {
        "content-type": encoded.headers.get("content-type") as string,
        "content-length": String(raw.byteLength),
      },
      body: raw,
    });
    expect(big.status).toBe(413);
    expect((await api.post(`/api/v1/nodes/${nodeId}/files`, { dest: "/srv/x" })).status).toBe(415);
    const missing = await api.fetch(`/api/v1/nodes/${nodeId}/files`, {
      method: "POST",
      body: form(new Uint8Array(1), { mode: "999" }),
    });
    expect(missing.status).toBe(422);
    const details = (await missing.json<any>()).error.details;
    expect(Object.keys(details).sort()).toEqual(["dest", "file", "mode"]);
    const fileFirst = new FormData();
    fileFirst.set("file", new File([new Uint8Array(10)], "x"));
    fileFirst.set("dest", "/srv/x");
    const early = await api.fetch(`/api/v1/nodes/${nodeId}/files`, { method: "POST", body: fileFirst });
    expect(early.status).toBe(422);
    expect((await early.json<any>()).error.details.file[0]).toMatch(/after dest/);
    expect(calls).toBe(0);
    agent.ws.close(1000, "bye");
  });
});
