import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import type { NodeSession } from "../../durable-objects/node-session";
import { METRICS_HISTORY_LIMIT } from "../../durable-objects/node-session/store";
import { CLOSE_CODES } from "../../src/protocol/frames";
import { AGENT, connectAgent, enrolNode, HOST } from "./agent-session";
import { createTestApi, eventually, type TestApi } from "./harness";

let api: TestApi;
const CLUSTER = `ns-${crypto.randomUUID().slice(0, 8)}`;
const E1 = crypto.randomUUID();

function stubFor(nodeId: string) {
  const ns = (env as any).NODE_SESSION as DurableObjectNamespace<NodeSession>;
  return ns.get(ns.idFromName(nodeId));
}

/** A node of CLUSTER whose agent said hello (announcing `interval` s heartbeats) and got its config. */
async function helloedAgent(interval?: number) {
  const { nodeId, token } = await enrolNode(api, CLUSTER);
  const agent = await connectAgent(api, token);
  agent.hello(interval);
  await agent.next("config");
  return { nodeId, token, agent };
}

async function status(nodeId: string) {
  return (await api.get(`/api/v1/nodes/${nodeId}`)).body.data.status;
}

beforeAll(async () => {
  api = await createTestApi({}, { sharedDatabase: true });
  await api.post("/api/v1/clusters", {
    name: CLUSTER,
  });
});

describe("agent WebSocket upgrade", () => {
  it("refuses a missing or unknown token with 401 before reaching the object", async () => {
    const none = await api.fetch("/agent/v1/connect", { headers: { upgrade: "websocket" }, auth: null });
    expect(none.status).toBe(401);
    const bad = await api.fetch("/agent/v1/connect", {
      headers: { upgrade: "websocket", authorization: "Bearer nope" },
      auth: null,
    });
    expect(bad.status).toBe(401);
    expect((await bad.json<any>()).error.code).toBe("unauthorized");
  });

  it("answers hello with config and marks the node healthy", async () => {
    const { nodeId, token } = await enrolNode(api, CLUSTER);
    expect(await status(nodeId)).toBe("unreachable");
    const agent = await connectAgent(api, token);
    agent.hello();
    const config = await agent.next("config");
    expect(config).toMatchObject({ node_id: nodeId, cluster_name: CLUSTER, heartbeat_interval_seconds: 15 });
    expect(await status(nodeId)).toBe("healthy");
    const node = (await api.get(`/api/v1/nodes/${nodeId}`)).body.data;
    expect(node.last_seen_at).not.toBeNull();
    agent.ws.close(1000, "bye");
  });

  it("answers ping with pong and an invalid frame with an error frame, without dropping the socket", async () => {
    const { token } = await enrolNode(api, CLUSTER);
    const agent = await connectAgent(api, token);
    agent.sendRaw("{not json");
    expect((await agent.next("error")).code).toBe("invalid_frame");
    agent.sendRaw(JSON.stringify({ v: 1, type: "heartbeat", host: {} }));
    agent.send({ type: "ping", id: "p1", sent_at: 123 });
    expect(await agent.next("pong")).toMatchObject({ id: "p1", sent_at: 123 });
    expect(agent.closed).toBeNull();
    agent.ws.close(1000);
  });
});

describe("one live connection per node", () => {
  it("replaces the first connection when a second arrives, and logs it", async () => {
    const { nodeId, token } = await enrolNode(api, CLUSTER);
    const first = await connectAgent(api, token);
    first.hello();
    await first.next("config");
    const second = await connectAgent(api, token);
    second.hello();
    await second.next("config");
    expect((await first.waitClosed()).code).toBe(CLOSE_CODES.replaced);
    expect(await status(nodeId)).toBe("healthy");
    const state = await runInDurableObject(stubFor(nodeId), (instance: NodeSession) =>
      instance.store.connectionLog(),
    );
    expect(state.some((e) => e.event === "replaced")).toBe(true);
    second.ws.close(1000);
  });
});

describe("status from heartbeats, disconnects and the alarm", () => {
  it("turns unhealthy on a failing check and healthy again when it passes", async () => {
    const { nodeId, agent } = await helloedAgent();
    agent.heartbeat([{ name: "disk", ok: false }]);
    await eventually(async () => expect(await status(nodeId)).toBe("unhealthy"));
    // Flips are damped (NODE_STATUS_MIN_INTERVAL_SECONDS, 1 s in tests): heal after the interval.
    await new Promise((r) => setTimeout(r, 1100));
    agent.heartbeat([{ name: "disk", ok: true }]);
    await eventually(async () => expect(await status(nodeId)).toBe("healthy"));
    agent.ws.close(1000);
  });

  it("turns unreachable when the agent disconnects", async () => {
    const { nodeId, agent } = await helloedAgent();
    agent.ws.close(1000, "bye");
    await eventually(async () => expect(await status(nodeId)).toBe("unreachable"));
  });

  it("turns unreachable from the alarm when heartbeats stop on an open socket", async () => {
    const { nodeId, agent } = await helloedAgent(1);
    expect(await status(nodeId)).toBe("healthy");
    // Pretend the last heartbeat was long ago, then fire the alarm.
    await runInDurableObject(stubFor(nodeId), (instance: NodeSession) => {
      const presence = instance.store.get<any>("presence");
      instance.store.set("presence", { ...presence, lastHeartbeatAt: Date.now() - 60_000 });
    });
    expect(await runDurableObjectAlarm(stubFor(nodeId))).toBe(true);
    expect(await status(nodeId)).toBe("unreachable");
    agent.ws.close(1000);
  });

  it("an alarm inside the stale window keeps the node and sets the next check at the window's end", async () => {
    const { nodeId, agent } = await helloedAgent(1);
    expect(await status(nodeId)).toBe("healthy");
    const before = Date.now();
    expect(await runDurableObjectAlarm(stubFor(nodeId))).toBe(true);
    expect(await status(nodeId)).toBe("healthy");
    const after = Date.now();
    const { alarm, base } = await runInDurableObject(
      stubFor(nodeId),
      async (instance: NodeSession, state) => ({
        alarm: await state.storage.getAlarm(),
        base: instance.store.get<number | null>("alarm_base"),
      }),
    );
    // The check's own time is kept beside the alarm (which an orchestration step may set earlier).
    expect(base).toBe(alarm);
    // 1 s heartbeats × the stale factor (3): three seconds after the hello, heard before the alarm.
    expect(alarm).toBeGreaterThan(before - 1000 + 3000);
    expect(alarm).toBeLessThanOrEqual(after + 3000);
    agent.ws.close(1000);
  });

  it("records one status_changed event per real change", async () => {
    const { nodeId, agent } = await helloedAgent();
    agent.heartbeat();
    agent.heartbeat();
    await new Promise((r) => setTimeout(r, 200));
    const { createDatabase } = await import("../../src/db/client");
    const { sql } = await import("drizzle-orm");
    const db = createDatabase({ url: api.env.LIBSQL_URL! });
    const rows = await db.all<{ type: string; data: string }>(
      sql`SELECT type, data FROM events WHERE json_extract(data, '$.node_id') = ${nodeId} ORDER BY occurred_at, rowid`,
    );
    expect(rows.map((r) => r.type)).toEqual([
      "edge.enrollment_key.verified",
      "edge.node.registered",
      "edge.node.status_changed",
    ]);
    expect(JSON.parse(rows[2].data)).toMatchObject({
      from: "unreachable",
      to: "healthy",
      cluster_name: CLUSTER,
    });
    agent.ws.close(1000);
  });
});

describe("last_seen_at", () => {
  it("a heartbeat past the write interval refreshes last_seen_at and undoes the cron's unreachable", async () => {
    const { createDatabase } = await import("../../src/db/client");
    const { sql } = await import("drizzle-orm");
    const db = createDatabase({ url: api.env.LIBSQL_URL! });
    const { nodeId, agent } = await helloedAgent();
    // The cron judged the node stale while its writes were failing, and the last write is long ago.
    await db.run(sql`UPDATE nodes SET status = 'unreachable', last_seen_at = 1000 WHERE id = ${nodeId}`);
    await runInDurableObject(stubFor(nodeId), (instance: NodeSession) => {
      const presence = instance.store.get<any>("presence");
      instance.store.set("presence", { ...presence, lastSeenWrittenAt: 0 });
    });
    const before = Date.now();
    agent.heartbeat();
    await eventually(async () => expect(await status(nodeId)).toBe("healthy"));
    const node = (await api.get(`/api/v1/nodes/${nodeId}`)).body.data;
    expect(Date.parse(node.last_seen_at)).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    agent.ws.close(1000);
  });

  it("group refreshes never move last_seen_at back, and report each node's status", async () => {
    const { createDatabase } = await import("../../src/db/client");
    const { touchLastSeen } = await import("../../src/nodes/status");
    const { sql } = await import("drizzle-orm");
    const db = createDatabase({ url: api.env.LIBSQL_URL! });
    const a = (await enrolNode(api, CLUSTER)).nodeId;
    const b = (await enrolNode(api, CLUSTER)).nodeId;
    await db.run(sql`UPDATE nodes SET last_seen_at = 5000 WHERE id = ${a}`);
    const statuses = await touchLastSeen(db, [
      { nodeId: a, at: 4000 },
      { nodeId: b, at: 7000 },
      { nodeId: b, at: 6000 },
      { nodeId: crypto.randomUUID(), at: 7000 },
    ]);
    expect(statuses).toEqual(["unreachable", "unreachable", "unreachable", null]);
    const rows = await db.all<{ id: string; last_seen_at: number }>(
      sql`SELECT id, last_seen_at FROM nodes WHERE id IN (${a}, ${b})`,
    );
    expect(Object.fromEntries(rows.map((r) => [r.id, r.last_seen_at]))).toEqual({ [a]: 5000, [b]: 7000 });
  });
});

describe("metrics", () => {
  it("serves the latest heartbeat as host, agent and unified metrics", async () => {
    const { nodeId, token } = await enrolNode(api, CLUSTER);
    expect((await api.get(`/api/v1/nodes/${nodeId}/metrics/host`)).status).toBe(503);
    const agent = await connectAgent(api, token);
    agent.hello();
    await agent.next("config");
    agent.heartbeat();
    await new Promise((r) => setTimeout(r, 100));
    // The contract's HostMetricsResponse is the bare object, not wrapped in {data, meta}.
    const host = (await api.get(`/api/v1/nodes/${nodeId}/metrics/host`)).body;
    expect(host.data).toBeUndefined();
    expect(host.meta).toBeUndefined();
    expect(host).toMatchObject({
      cluster_name: CLUSTER,
      node_id: nodeId,
      cpu: HOST.cpu,
      memory: {
        total_gb: 8,
        available_gb: 6,
        used_gb: 2,
        usage_percent: 25,
        total_bytes: HOST.memory.total_bytes,
      },
      disk: { total_gb: 100, usage_percent: 60 },
      uptime: { seconds: 90_061, human: "1d 1h 1m" },
    });
    const agentMetrics = (await api.get(`/api/v1/nodes/${nodeId}/metrics/agent`)).body.data;
    expect(agentMetrics.commands).toEqual({ run: AGENT.commands_run, failed: AGENT.commands_failed });
    expect(agentMetrics.health_check.status).toBe("passing");
    const unified = (await api.get(`/api/v1/nodes/${nodeId}/metrics`)).body.data;
    expect(unified).toMatchObject({
      node_id: nodeId,
      cluster_name: CLUSTER,
      host: { available: true },
      agent: { available: true },
    });
    expect((await api.get(`/api/v1/nodes/${crypto.randomUUID()}/metrics`)).status).toBe(404);
    agent.ws.close(1000);
  });

  it("keeps a bounded history", async () => {
    const { nodeId } = await enrolNode(api, CLUSTER);
    const count = await runInDurableObject(stubFor(nodeId), (instance: NodeSession) => {
      for (let i = 0; i < METRICS_HISTORY_LIMIT + 50; i++) {
        instance.store.addSample({ at: 1_000_000 + i, host: HOST, agent: AGENT, checks: [] });
      }
      const beforePrune = instance.store.sampleCount();
      instance.store.pruneSamples();
      return {
        beforePrune,
        n: instance.store.sampleCount(),
        served: instance.store.samples().length,
        newest: instance.store.latestSample()?.at,
      };
    });
    // Pruning runs on about one insert in 16, so between prunes a few extra rows may wait.
    expect(count.beforePrune).toBeLessThanOrEqual(METRICS_HISTORY_LIMIT + 50);
    expect(count).toMatchObject({
      n: METRICS_HISTORY_LIMIT,
      served: METRICS_HISTORY_LIMIT,
      newest: 1_000_000 + METRICS_HISTORY_LIMIT + 49,
    });
  });
});

describe("node deletion", () => {
  it("closes the socket with the node-deleted code and refuses the token afterwards", async () => {
    const { nodeId, token, agent } = await helloedAgent();
    expect((await api.del(`/api/v1/nodes/${nodeId}`)).status).toBe(204);
    expect((await agent.waitClosed()).code).toBe(CLOSE_CODES.nodeDeleted);
    const again = await api.fetch("/agent/v1/connect", {
      headers: { upgrade: "websocket", authorization: `Bearer ${token}` },
      auth: null,
    });
    expect(again.status).toBe(401);
  });
});

describe("frames the agent sends that need no answer", () => {
  it("takes the agent's ack and pong without an error frame", async () => {
    const { token } = await enrolNode(api, CLUSTER);
    const agent = await connectAgent(api, token);
    agent.send({ type: "ack", execution_id: E1 });
    agent.send({ type: "pong", id: "p0", sent_at: 1 });
    agent.send({ type: "ping", id: "p1", sent_at: 2 });
    // Frames are handled in order, so the pong answering p1 comes after the ack and pong were taken.
    expect(await agent.next("pong")).toMatchObject({ id: "p1" });
    expect(agent.frames.filter((f) => f.type === "error")).toEqual([]);
    expect(agent.closed).toBeNull();
    agent.ws.close(1000);
  });
});

describe("typed RPC from the Worker", () => {
  it("sends frames and a cluster change to a connected agent, and answers false without one", async () => {
    const { nodeId, token } = await enrolNode(api, CLUSTER);
    const session = stubFor(nodeId);
    expect(await session.sendFrame({ type: "cancel", execution_id: E1 })).toBe(false);
    expect(await session.changeCluster("elsewhere")).toBe(false);
    expect((await session.state()).connected).toBe(false);

    const agent = await connectAgent(api, token);
    agent.hello(20);
    await agent.next("config");
    expect(await session.state()).toMatchObject({
      connected: true,
      presence: { status: "healthy", heartbeatIntervalSeconds: 20 },
    });
    expect(await session.sendFrame({ type: "cancel", execution_id: E1 })).toBe(true);
    expect(await agent.next("cancel")).toMatchObject({ execution_id: E1 });
    agent.frames.length = 0;
    expect(await session.changeCluster("elsewhere")).toBe(true);
    expect(await agent.next("config")).toMatchObject({
      node_id: nodeId,
      cluster_name: "elsewhere",
      heartbeat_interval_seconds: 20,
    });
    // Checked against the catalog on the way out, whatever the caller's types said.
    let refused: unknown = null;
    try {
      await session.sendFrame({ type: "cancel", execution_id: "" });
    } catch (err) {
      refused = err;
    }
    expect(String(refused)).toMatch(/Invalid UUID/);

    agent.ws.close(1000);
    await eventually(async () => expect((await session.state()).connected).toBe(false));
  });

  it("serves the latest sample and at most the history asked for", async () => {
    const { nodeId } = await enrolNode(api, CLUSTER);
    const session = stubFor(nodeId);
    expect(await session.metrics()).toEqual({ latest: null, history: [] });
    await runInDurableObject(session, (instance: NodeSession) => {
      for (let i = 0; i < 3; i++)
        instance.store.addSample({ at: 2_000_000 + i, host: HOST, agent: AGENT, checks: [] });
    });
    const metrics = await session.metrics(2);
    expect(metrics.latest?.at).toBe(2_000_002);
    expect(metrics.history.map((s) => s.at)).toEqual([2_000_002, 2_000_001]);
    expect((await session.metrics()).history).toEqual([]);
  });
});

describe("the upgrade the session sees", () => {
  it("carries the authenticated node only, not the client's own node header or query", async () => {
    const { nodeId, token } = await enrolNode(api, CLUSTER);
    const other = await enrolNode(api, CLUSTER);
    // `_pk` would pick partyserver's connection id if it reached the object.
    const res = await api.fetch("/agent/v1/connect?_pk=chosen-by-client", {
      headers: { upgrade: "websocket", authorization: `Bearer ${token}`, "x-outpost-node-id": other.nodeId },
      auth: null,
    });
    expect(res.status).toBe(101);
    res.webSocket?.accept();
    const { connected, connection_log } = await stubFor(nodeId).state();
    expect(connected).toBe(true);
    const event = connection_log.find((e) => e.event === "connected");
    expect(event?.detail).toBeTruthy();
    expect(event?.detail).not.toBe("chosen-by-client");
    expect((await stubFor(other.nodeId).state()).connected).toBe(false);
    res.webSocket?.close(1000);
  });

  it("refuses a request without a node token before looking at the upgrade", async () => {
    const res = await api.fetch("/agent/v1/connect", { auth: null });
    expect(res.status).toBe(401);
  });
});
