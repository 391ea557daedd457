import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import type { NodeSession } from "../../durable-objects/node-session";
import { createDatabase } from "../../src/db/client";
import { CLOSE_CODES, encodeAgentFrame } from "../../src/protocol/frames";
import { AGENT, connectAgent, enrolNode, HOST } from "./agent-session";
import { createTestApi, eventually, type TestApi } from "./harness";

// M5: one node cannot flood shared state. Frames past the connection's budget close it (1008),
// a second hello on a connection is refused, healthy/unhealthy flips are damped, and execution ids
// that are not UUIDs never reach a write.

let api: TestApi;
let db: ReturnType<typeof createDatabase>;
const CLUSTER = `nl-${crypto.randomUUID().slice(0, 8)}`;

function stubFor(nodeId: string) {
  const ns = (env as any).NODE_SESSION as DurableObjectNamespace<NodeSession>;
  return ns.get(ns.idFromName(nodeId));
}

async function status(nodeId: string) {
  return (await api.get(`/api/v1/nodes/${nodeId}`)).body.data.status;
}

async function statusChanges(nodeId: string) {
  const rows = await db.all<{ data: string }>(
    sql`SELECT data FROM events WHERE type = 'edge.node.status_changed' AND json_extract(data, '$.node_id') = ${nodeId} ORDER BY occurred_at, rowid`,
  );
  return rows.map((r) => JSON.parse(r.data).to);
}

async function online() {
  const { nodeId, token } = await enrolNode(api, CLUSTER);
  const agent = await connectAgent(api, token);
  agent.hello();
  await agent.next("config");
  return { nodeId, token, agent };
}

/** Waits until the session handled everything sent before (frames are handled in order). */
async function settled(agent: Awaited<ReturnType<typeof connectAgent>>) {
  const id = crypto.randomUUID();
  agent.send({ type: "ping", id, sent_at: 1 });
  await agent.until(() => agent.frames.some((f) => f.type === "pong" && f.id === id), "the pong");
}

beforeAll(async () => {
  api = await createTestApi({}, { sharedDatabase: true });
  db = createDatabase({ url: api.env.LIBSQL_URL! });
  const res = await api.post("/api/v1/clusters", {
    name: CLUSTER,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
});

describe("frame budget per connection", () => {
  it("closes a connection that floods frames with 1008 and logs it; a new connection works", async () => {
    const { nodeId, token, agent } = await online();
    // Heartbeats each store a sample and may write: the default burst is 200 frames.
    const heartbeat = encodeAgentFrame({ type: "heartbeat", host: HOST, agent: AGENT, checks: [] });
    const started = Date.now();
    for (let i = 0; i < 400; i++) agent.sendRaw(heartbeat);
    expect((await agent.waitClosed()).code).toBe(CLOSE_CODES.policyViolation);
    // At most the burst plus what the rate (20/s) refilled while the flood was being read.
    const allowed = 200 + Math.ceil(((Date.now() - started) / 1000) * 20);
    const log = await runInDurableObject(stubFor(nodeId), (instance: NodeSession) =>
      instance.store.connectionLog(),
    );
    expect(log.map((e: { event: string }) => e.event)).toContain("rate_limited");
    const samples = await runInDurableObject(stubFor(nodeId), (i: NodeSession) => i.store.sampleCount());
    expect(samples).toBeLessThanOrEqual(allowed);
    expect(samples).toBeLessThan(400);
    const again = await connectAgent(api, token);
    again.hello();
    await again.next("config");
    again.ws.close(1000);
  });

  it("lets an agent's ordinary traffic through", async () => {
    const { agent } = await online();
    for (let i = 0; i < 50; i++) agent.heartbeat();
    await settled(agent);
    expect(agent.closed).toBeNull();
    agent.ws.close(1000);
  });
});

describe("one hello per connection", () => {
  it("refuses a second hello with an error frame and records nothing for it", async () => {
    const { nodeId, agent } = await online();
    agent.send({
      type: "hello",
      agent_version: "9.9.9",
      hostname: "other",
      platform: "linux",
      capabilities: [],
      heartbeat_interval_seconds: 15,
    });
    const error = await agent.next("error");
    expect(error.message).toMatch(/hello was already received/);
    expect(agent.frames.filter((f) => f.type === "config")).toHaveLength(1);
    expect((await api.get(`/api/v1/nodes/${nodeId}`)).body.data.version).toBe("1.2.3");
    expect(agent.closed).toBeNull();
    agent.ws.close(1000);
  });
});

describe("status damping", () => {
  it("a check that alternates flips the status once per interval, not once per heartbeat", async () => {
    const { nodeId, agent } = await online();
    for (let i = 0; i < 10; i++) agent.heartbeat([{ name: "disk", ok: i % 2 === 1 }]);
    await settled(agent);
    // The first flip applies at once; the nine that follow within the interval (1 s in tests) wait.
    expect(await statusChanges(nodeId)).toEqual(["healthy", "unhealthy"]);
    expect(await status(nodeId)).toBe("unhealthy");
    await new Promise((r) => setTimeout(r, 1100));
    agent.heartbeat([{ name: "disk", ok: true }]);
    await eventually(async () => expect(await status(nodeId)).toBe("healthy"));
    expect(await statusChanges(nodeId)).toEqual(["healthy", "unhealthy", "healthy"]);
    agent.ws.close(1000);
  });

  it("never holds back unreachable", async () => {
    const { nodeId, agent } = await online();
    agent.heartbeat([{ name: "disk", ok: false }]);
    await eventually(async () => expect(await status(nodeId)).toBe("unhealthy"));
    agent.ws.close(1000);
    await eventually(async () => expect(await status(nodeId)).toBe("unreachable"));
  });
});

describe("execution ids", () => {
  it("refuses a result, output or ack whose execution_id is not a UUID before any write", async () => {
    const { agent } = await online();
    const frames = [
      { v: 1, type: "result", execution_id: "not-a-uuid", exit_code: 0, output: "", truncated: false },
      { v: 1, type: "output", execution_id: "x", seq: 0, chunk: "hi" },
      { v: 1, type: "ack", execution_id: "e1" },
    ];
    for (const frame of frames) agent.sendRaw(JSON.stringify(frame));
    await agent.until(() => agent.frames.filter((f) => f.type === "error").length === 3, "three errors");
    for (const error of agent.frames.filter((f) => f.type === "error"))
      expect(error).toMatchObject({ code: "invalid_frame", message: expect.stringMatching(/execution_id/) });
    expect(agent.frames.some((f) => f.type === "ack")).toBe(false);
    agent.ws.close(1000);
  });
});

describe("per-node memory (L7)", () => {
  it("refuses heartbeat checks with over-long names or messages, or too many of them", async () => {
    const { agent } = await online();
    const heartbeat = (checks: unknown[]) =>
      agent.sendRaw(JSON.stringify({ v: 1, type: "heartbeat", host: HOST, agent: AGENT, checks }));
    heartbeat([{ name: "n".repeat(65), ok: true }]);
    heartbeat([{ name: "disk", ok: true, message: "m".repeat(1025) }]);
    heartbeat(Array.from({ length: 33 }, (_, i) => ({ name: `c${i}`, ok: true })));
    await agent.until(() => agent.frames.filter((f) => f.type === "error").length === 3, "three errors");
    heartbeat([{ name: "n".repeat(64), ok: true, message: "m".repeat(1024) }]);
    await settled(agent);
    expect(agent.frames.filter((f) => f.type === "error")).toHaveLength(3);
    agent.ws.close(1000);
  });

  it("keeps live output only for executions delivered to that node", async () => {
    const a = await online();
    const b = await online();
    const created = await api.post("/api/v1/commands", {
      command_text: "echo live",
      targeting: { type: "nodes", node_ids: [a.nodeId, b.nodeId] },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const mine = (await a.agent.next("exec")).execution_id;
    const theirs = (await b.agent.next("exec")).execution_id;
    for (const id of [crypto.randomUUID(), theirs])
      a.agent.send({ type: "output", execution_id: id, seq: 0, chunk: "spoofed" });
    await settled(a.agent);
    expect((await stubFor(a.nodeId).state()).live_outputs).toBe(0);
    a.agent.send({ type: "output", execution_id: mine, seq: 0, chunk: "real" });
    await settled(a.agent);
    expect((await stubFor(a.nodeId).state()).live_outputs).toBe(1);
    a.agent.ws.close(1000);
    b.agent.ws.close(1000);
  });
});

describe("live-output streams (L8)", () => {
  it("caps a node's open streams (503 in the envelope past it) and closes each after its lifetime", async () => {
    const { nodeId, agent } = await online();
    const created = await api.post("/api/v1/commands", {
      command_text: "sleep 60",
      targeting: { type: "nodes", node_ids: [nodeId] },
    });
    const id = (await agent.next("exec")).execution_id;
    expect(created.status).toBe(201);
    // Tests run with STREAM_MAX_SUBSCRIBERS_PER_NODE=3 and STREAM_MAX_LIFETIME_SECONDS=3.
    const opened = await Promise.all(
      [1, 2, 3].map(() => api.fetch(`/api/v1/command_executions/${id}/stream`)),
    );
    for (const res of opened) expect(res.status).toBe(200);
    const refused = await api.fetch(`/api/v1/command_executions/${id}/stream`);
    expect(refused.status).toBe(503);
    expect((await refused.json<any>()).error.code).toBe("service_unavailable");
    const started = Date.now();
    const texts = await Promise.all(opened.map((res) => res.text()));
    expect(Date.now() - started).toBeLessThan(6000);
    for (const text of texts) expect(text).not.toContain("event: end");
    expect((await stubFor(nodeId).state()).streams).toBe(0);
    agent.ws.close(1000);
  });
});
