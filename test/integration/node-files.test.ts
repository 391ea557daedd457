import { beforeAll, describe, expect, it } from "vitest";
import { connectAgent, enrolNode } from "./agent-session";
import { api, makeCluster, P, setUpNodes, startNodesFile } from "./nodes-fixture";

startNodesFile();

type Agent = Awaited<ReturnType<typeof connectAgent>>;

function serve(agent: Agent, on: (frame: any) => void) {
  agent.ws.addEventListener("message", (e) => {
    const frame = JSON.parse(String(e.data));
    if (frame.type === "rpc" || frame.type.startsWith("stream_")) on(frame);
  });
}

async function connected() {
  const { nodeId, token } = await enrolNode(api, `${P}-c`);
  const agent = await connectAgent(api, token);
  agent.send({
    type: "hello",
    agent_version: "1.2.3",
    hostname: "h",
    platform: "linux",
    capabilities: ["files.v1"],
    heartbeat_interval_seconds: 15,
  });
  await agent.next("config");
  return { nodeId, agent };
}

async function sha256(bytes: Uint8Array): Promise<string> {
  return [...new Uint8Array(await crypto.subtle.digest("SHA-256", bytes))]
    .map((b) => b.toString(16).padStart(2, "0"))
    .join("");
}

const b64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));

function form(bytes: Uint8Array, fields: Record<string, string>) {
  const body = new FormData();
  body.set("file", new File([bytes], "payload.bin"));
  for (const [k, v] of Object.entries(fields)) body.set(k, v);
  return body;
}

beforeAll(async () => {
  await setUpNodes();
  await makeCluster(`${P}-c`);
});

describe("node file download", () => {
  it("streams the agent's chunks with Content-Length and the agent's checksum, granting credits as the client reads", async () => {
    const { nodeId, agent } = await connected();
    const chunks = Array.from({ length: 10 }, (_, i) => new Uint8Array(1000).fill(i));
    const all = new Uint8Array(10_000);
    for (const [i, c] of chunks.entries()) all.set(c, i * 1000);
    const digest = await sha256(all);
    const frames: any[] = [];
    let streamId = "";
    let sent = 0;
    let credits = 0;
    const pump = () => {
      while (credits > 0 && sent < chunks.length) {
        credits--;
        agent.send({ type: "stream_data", stream_id: streamId, seq: sent, items: [b64(chunks[sent])] });
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
          result: { path: "/srv/data.bin", size: 10_000, mode: "0644", sha256: digest },
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
    expect(res.headers.get("content-length")).toBe("10000");
    expect(res.headers.get("x-checksum-sha256")).toBe(digest);
    const body = new Uint8Array(await res.arrayBuffer());
    expect(await sha256(body)).toBe(digest);
    const start = frames.find((f) => f.type === "stream_start");
    expect(start).toMatchObject({ kind: "files.read", params: { path: "/srv/data.bin" } });
    expect(start.credits).toBeLessThan(chunks.length);
    expect(frames.filter((f) => f.type === "stream_credit").length).toBeGreaterThan(0);
    const audit = await api.get(`/api/v1/audit_events?event=file.read&resource_id=${nodeId}`);
    expect(audit.body.data).toHaveLength(1);
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
  it("opens, sends chunks in order and commits; the agent's answer is the 201", async () => {
    const { nodeId, agent } = await connected();
    const bytes = new Uint8Array(600 * 1024).map((_, i) => i % 251);
    const digest = await sha256(bytes);
    const calls: any[] = [];
    let received: number[] = [];
    serve(agent, (frame) => {
      if (frame.type !== "rpc") return;
      calls.push(frame);
      const p = frame.params;
      const result =
        frame.method === "files.write_open"
          ? { upload_id: "u1" }
          : frame.method === "files.write_chunk"
            ? (() => {
                received = received.concat([...Uint8Array.from(atob(p.data), (c) => c.charCodeAt(0))]);
                return { received: received.length };
              })()
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
    expect(calls.map((c) => c.method)).toEqual([
      "files.write_open",
      "files.write_chunk",
      "files.write_chunk",
      "files.write_chunk",
      "files.write_commit",
    ]);
    expect(calls[0].params).toMatchObject({
      dest: "/srv/up.bin",
      mode: 0o600,
      overwrite: true,
      create_dirs: false,
      size: bytes.length,
      sha256: digest,
    });
    expect(calls.slice(1, 4).map((c) => c.params.offset)).toEqual([0, 256 * 1024, 512 * 1024]);
    expect(await sha256(Uint8Array.from(received))).toBe(digest);
    const audit = await api.get(`/api/v1/audit_events?event=file.created&resource_id=${nodeId}`);
    expect(audit.body.data).toHaveLength(1);
    expect(audit.body.data[0].details).toMatchObject({ path: "/srv/up.bin", sha256: digest });
    agent.ws.close(1000, "bye");
  });

  it("aborts the upload when a chunk fails, and maps an existing file to 409", async () => {
    const { nodeId, agent } = await connected();
    const methods: string[] = [];
    serve(agent, (frame) => {
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
        return agent.send({ type: "rpc_result", id: frame.id, ok: true, result: { upload_id: "u2" } });
      if (frame.method === "files.write_chunk")
        return agent.send({
          type: "rpc_result",
          id: frame.id,
          ok: false,
          error: { code: "internal", message: "disk full" },
        });
      agent.send({ type: "rpc_result", id: frame.id, ok: true, result: {} });
    });
    const bytes = new Uint8Array(10).fill(7);
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
    expect(methods).toEqual([
      "files.write_open",
      "files.write_open",
      "files.write_chunk",
      "files.write_abort",
    ]);
    agent.ws.close(1000, "bye");
  });

  it("refuses a file past FILE_TRANSFER_MAX_BYTES (413), a JSON body (415) and missing fields (422) before any agent call", async () => {
    const { nodeId, agent } = await connected();
    let calls = 0;
    serve(agent, () => calls++);
    const big = await api.fetch(`/api/v1/nodes/${nodeId}/files`, {
      method: "POST",
      body: form(new Uint8Array(1024 * 1024 + 1), { dest: "/srv/big" }),
    });
    expect(big.status).toBe(413);
    expect((await api.post(`/api/v1/nodes/${nodeId}/files`, { dest: "/srv/x" })).status).toBe(415);
    const missing = await api.fetch(`/api/v1/nodes/${nodeId}/files`, {
      method: "POST",
      body: form(new Uint8Array(1), { mode: "999" }),
    });
    expect(missing.status).toBe(422);
    const details = (await missing.json<any>()).error.details;
    expect(Object.keys(details).sort()).toEqual(["dest", "mode"]);
    expect(calls).toBe(0);
    agent.ws.close(1000, "bye");
  });
});
