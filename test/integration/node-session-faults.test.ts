import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import type { NodeSession } from "../../durable-objects/node-session";
import { createDatabase } from "../../src/db/client";
import { CLOSE_CODES } from "../../src/protocol/frames";
import { connectAgent, enrolNode } from "./agent-session";
import { clearFaults, injectFault } from "./faults";
import { createTestApi, eventually, type TestApi } from "./harness";

// Every write path of the NodeSession (hello, status changes, results through the BatchWriter,
// last_seen_at refreshes) meets a transient libSQL failure injected into the real dev server, and
// the node must converge: its facts recorded, `config` received, its status right. A failure that
// outlasts the retries closes the socket with "try again later", and a reconnect converges.

let api: TestApi;
let db: ReturnType<typeof createDatabase>;
const CLUSTER = `wf-${crypto.randomUUID().slice(0, 8)}`;

const HELLO_SQL = "set version =";
const STATUS_SQL = "set status =";
const RESULT_SQL = "exit_code = r.exit_code";
const LAST_SEEN_SQL = "set last_seen_at = max(";

function stubFor(nodeId: string) {
  const ns = (env as any).NODE_SESSION as DurableObjectNamespace<NodeSession>;
  return ns.get(ns.idFromName(nodeId));
}

async function node(nodeId: string) {
  return (await api.get(`/api/v1/nodes/${nodeId}`)).body.data;
}

async function eventsOf(nodeId: string, type: string) {
  return db.all<{ data: string }>(
    sql`SELECT data FROM events WHERE type = ${type} AND json_extract(data, '$.node_id') = ${nodeId}`,
  );
}

/** A hello whose facts differ from the enrolment's, so recording them is visible. */
function helloNewFacts(agent: Awaited<ReturnType<typeof connectAgent>>) {
  agent.send({
    type: "hello",
    agent_version: "2.0.0",
    hostname: "host-after-hello",
    platform: "linux-arm64",
    capabilities: [],
    heartbeat_interval_seconds: 15,
  });
}

async function expectConverged(nodeId: string) {
  expect(await node(nodeId)).toMatchObject({ status: "healthy", version: "2.0.0" });
  const [facts] = await db.all<{ hostname: string; platform: string }>(
    sql`SELECT hostname, platform FROM nodes WHERE id = ${nodeId}`,
  );
  expect(facts).toEqual({ hostname: "host-after-hello", platform: "linux-arm64" });
  expect(await eventsOf(nodeId, "edge.node.version_changed")).toHaveLength(1);
  const changes = await eventsOf(nodeId, "edge.node.status_changed");
  expect(changes.map((e) => JSON.parse(e.data).to)).toEqual(["healthy"]);
}

beforeAll(async () => {
  api = await createTestApi({}, { sharedDatabase: true });
  db = createDatabase({ url: api.env.LIBSQL_URL! });
  const res = await api.post("/api/v1/clusters", {
    name: CLUSTER,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
});

describe("hello under transient database failures", () => {
  it("retries a busy database: facts recorded, config received, healthy", async () => {
    const { nodeId, token } = await enrolNode(api, CLUSTER);
    await injectFault({ sql: HELLO_SQL, arg: nodeId, times: 3 });
    const agent = await connectAgent(api, token);
    helloNewFacts(agent);
    expect(await agent.next("config")).toMatchObject({ node_id: nodeId, cluster_name: CLUSTER });
    await expectConverged(nodeId);
    expect(agent.frames.filter((f) => f.type === "error")).toEqual([]);
    agent.ws.close(1000);
  });

  it("retries a libSQL 5xx the same way", async () => {
    const { nodeId, token } = await enrolNode(api, CLUSTER);
    await injectFault({ sql: HELLO_SQL, arg: nodeId, times: 2, error: "unavailable" });
    const agent = await connectAgent(api, token);
    helloNewFacts(agent);
    await agent.next("config");
    await expectConverged(nodeId);
    agent.ws.close(1000);
  });

  it("closes with try-again-later when the failure persists, and the reconnect converges", async () => {
    const { nodeId, token } = await enrolNode(api, CLUSTER);
    // Five tries is the whole retry budget (DURABLE_WRITE_RETRY): every one fails.
    await injectFault({ sql: HELLO_SQL, arg: nodeId, times: 5 });
    const first = await connectAgent(api, token);
    helloNewFacts(first);
    expect((await first.waitClosed()).code).toBe(CLOSE_CODES.tryAgainLater);
    expect(first.frames.find((f) => f.type === "config")).toBeUndefined();
    expect((await node(nodeId)).status).toBe("unreachable");
    // What the agent does on that close code: reconnect and say hello again.
    const second = await connectAgent(api, token);
    helloNewFacts(second);
    await second.next("config");
    await expectConverged(nodeId);
    second.ws.close(1000);
  });
});

describe("the other write paths under transient database failures", () => {
  async function online() {
    const { nodeId, token } = await enrolNode(api, CLUSTER);
    const agent = await connectAgent(api, token);
    helloNewFacts(agent);
    await agent.next("config");
    return { nodeId, token, agent };
  }

  it("a status change is retried until it lands, with one event", async () => {
    const { nodeId, agent } = await online();
    await injectFault({ sql: STATUS_SQL, arg: nodeId, times: 3 });
    agent.heartbeat([{ name: "disk", ok: false }]);
    await eventually(async () => expect((await node(nodeId)).status).toBe("unhealthy"));
    const changes = await eventsOf(nodeId, "edge.node.status_changed");
    expect(changes.map((e) => JSON.parse(e.data).to)).toEqual(["healthy", "unhealthy"]);
    expect(agent.closed).toBeNull();
    agent.ws.close(1000);
  });

  it("a result that fails past the batch writer's own retries is retried by the session, then acked", async () => {
    const { nodeId, agent } = await online();
    const created = await api.post("/api/v1/commands", {
      command_text: "echo faults",
      targeting: { type: "nodes", node_ids: [nodeId] },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const exec = await agent.next("exec");
    // The writer tries a flush three times; six failures need the session's retries too.
    await injectFault({ sql: RESULT_SQL, arg: exec.execution_id, times: 6 });
    agent.send({
      type: "result",
      execution_id: exec.execution_id,
      exit_code: 0,
      output: "ok\n",
      truncated: false,
    });
    expect(await agent.next("ack")).toMatchObject({ execution_id: exec.execution_id });
    const row = (await api.get(`/api/v1/command_executions/${exec.execution_id}`)).body.data;
    expect(row).toMatchObject({ status: "completed", exit_code: 0, output: "ok\n" });
    agent.ws.close(1000);
  });

  it("a result that cannot be written closes the socket unacked; the agent's resend completes it", async () => {
    const { nodeId, token, agent } = await online();
    await api.post("/api/v1/commands", {
      command_text: "echo persistent",
      targeting: { type: "nodes", node_ids: [nodeId] },
    });
    const exec = await agent.next("exec");
    await injectFault({ sql: RESULT_SQL, arg: exec.execution_id, times: 1000 });
    agent.send({
      type: "result",
      execution_id: exec.execution_id,
      exit_code: 0,
      output: "ok\n",
      truncated: false,
    });
    expect((await agent.waitClosed()).code).toBe(CLOSE_CODES.tryAgainLater);
    expect(agent.frames.find((f) => f.type === "ack")).toBeUndefined();
    // The database recovers; the agent reconnects and sends its unacked result again.
    await clearFaults();
    const again = await connectAgent(api, token);
    helloNewFacts(again);
    await again.next("config");
    again.send({
      type: "result",
      execution_id: exec.execution_id,
      exit_code: 0,
      output: "ok\n",
      truncated: false,
    });
    expect(await again.next("ack")).toMatchObject({ execution_id: exec.execution_id });
    expect((await api.get(`/api/v1/command_executions/${exec.execution_id}`)).body.data.status).toBe(
      "completed",
    );
    again.ws.close(1000);
  });

  it("a last_seen_at refresh is retried until it lands", async () => {
    const { nodeId, agent } = await online();
    await db.run(sql`UPDATE nodes SET last_seen_at = 1000 WHERE id = ${nodeId}`);
    await runInDurableObject(stubFor(nodeId), (instance: NodeSession) => {
      const presence = instance.store.get<any>("presence");
      instance.store.set("presence", { ...presence, lastSeenWrittenAt: 0 });
    });
    await injectFault({ sql: LAST_SEEN_SQL, arg: nodeId, times: 4 });
    const before = Date.now();
    agent.heartbeat();
    await eventually(async () =>
      expect(Date.parse((await node(nodeId)).last_seen_at)).toBeGreaterThanOrEqual(
        Math.floor(before / 1000) * 1000,
      ),
    );
    expect(agent.closed).toBeNull();
    agent.ws.close(1000);
  });
});
