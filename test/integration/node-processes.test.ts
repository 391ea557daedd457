import { and, eq, sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { events } from "../../src/db/schema";
import type { ServerFrame } from "../../src/protocol/frames";
import { connectAgent, connectedAgent, enrolNode } from "./agent-session";
import { api, db, makeCluster, P, setUpNodes, startNodesFile } from "./nodes-fixture";

startNodesFile();

const PROCS = [
  {
    pid: 1,
    ppid: 0,
    name: "systemd",
    cmdline: "/sbin/init",
    user: "root",
    state: "S",
    cpu_percent: 0.1,
    memory_bytes: 9_000,
    threads: 1,
    start_time: "2026-12-01T00:00:00.000Z",
  },
  {
    pid: 400,
    ppid: 1,
    name: "nginx",
    cmdline: "nginx: master",
    user: "root",
    state: "S",
    cpu_percent: 2.5,
    memory_bytes: 50_000,
    threads: 1,
    start_time: "2026-12-01T00:01:00.000Z",
  },
  {
    pid: 401,
    ppid: 400,
    name: "nginx",
    cmdline: "nginx: worker",
    user: "www-data",
    state: "R",
    cpu_percent: 9.5,
    memory_bytes: 70_000,
    threads: 4,
    start_time: "2026-12-01T00:01:01.000Z",
  },
  {
    pid: 900,
    ppid: 1,
    name: "sleep",
    cmdline: "sleep 600",
    user: "ci",
    state: "S",
    cpu_percent: 0,
    memory_bytes: 1_000,
    threads: 1,
    start_time: "2026-12-02T00:00:00.000Z",
  },
];

type Agent = Awaited<ReturnType<typeof connectAgent>>;
type Rpc = Extract<ServerFrame, { type: "rpc" }>;

/** Plays the agent: answers every `rpc` with `answer(frame)` (undefined: stays silent). */
function serve(
  agent: Agent,
  answer: (rpc: Rpc) => { ok: boolean; result?: unknown; error?: any } | undefined,
) {
  const seen = new Set<string>();
  agent.ws.addEventListener("message", (e) => {
    const frame = JSON.parse(String(e.data));
    if (frame.type !== "rpc" || seen.has(frame.id)) return;
    seen.add(frame.id);
    const reply = answer(frame);
    if (reply) agent.send({ type: "rpc_result", id: frame.id, ...reply });
  });
}

function connected(capabilities: string[] = ["processes.v1"]) {
  return connectedAgent(api, `${P}-c`, capabilities);
}

beforeAll(async () => {
  await setUpNodes();
  await makeCluster(`${P}-c`);
});

describe("node processes", () => {
  it("lists the agent's processes with wildcard filters, sorting and paging", async () => {
    const { nodeId, agent } = await connected();
    const methods: string[] = [];
    serve(agent, (rpc) => {
      methods.push(rpc.method);
      return { ok: true, result: { processes: PROCS } };
    });
    const res = await api.get(
      `/api/v1/nodes/${nodeId}/processes?name=ngin*&order_by=cpu_percent&order_directions=desc`,
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.data.map((p: any) => p.pid)).toEqual([401, 400]);
    expect(res.body.meta.pagination).toMatchObject({ total_count: 2, page: 1 });
    const paged = await api.get(`/api/v1/nodes/${nodeId}/processes?page_size=1&page=2`);
    expect(paged.body.data.map((p: any) => p.pid)).toEqual([400]);
    expect(paged.body.meta.pagination).toMatchObject({ total_count: 4, has_next: true });
    const bad = await api.get(`/api/v1/nodes/${nodeId}/processes?order_by=colour`);
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.order_by).toBeDefined();
    expect(methods).toEqual(["processes.list", "processes.list"]);
    agent.ws.close(1000, "bye");
  });

  it("maps the agent's refusals: no process 404, pid reused 409, host policy 403", async () => {
    const { nodeId, agent } = await connected();
    serve(agent, (rpc) => {
      const pid = (rpc.params as { pid: number }).pid;
      if (pid === 404) return { ok: false, error: { code: "not_found", message: "no process 404" } };
      if (pid === 409) return { ok: false, error: { code: "conflict", message: "pid reused" } };
      return { ok: false, error: { code: "policy", message: "signals are switched off" } };
    });
    expect((await api.get(`/api/v1/nodes/${nodeId}/processes/404`)).status).toBe(404);
    const reused = await api.post(`/api/v1/nodes/${nodeId}/processes/409/signal`, {
      signal: "SIGTERM",
      start_time: "2026-12-02T00:00:00.000Z",
    });
    expect(reused.status).toBe(409);
    const refused = await api.post(`/api/v1/nodes/${nodeId}/processes/900/signal`, { signal: 15 });
    expect(refused.status).toBe(403);
    expect(refused.body.error.details.reason).toEqual(["refused_by_host_policy"]);
    agent.ws.close(1000, "bye");
  });

  it("signals a process, audits it as process.signal and records edge.process.signalled", async () => {
    const { nodeId, agent } = await connected();
    const asked: unknown[] = [];
    serve(agent, (rpc) => {
      asked.push(rpc.params);
      return { ok: true, result: { pid: 900, signal: "SIGTERM", delivered: true } };
    });
    const res = await api.post(`/api/v1/nodes/${nodeId}/processes/900/signal`, { signal: "SIGTERM" });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.data).toEqual({ pid: 900, signal: "SIGTERM", delivered: true });
    expect(asked).toEqual([{ pid: 900, signal: "SIGTERM" }]);
    const audit = await api.get(
      `/api/v1/audit_events?event=process.signal&order_by=seq&order_directions=desc`,
    );
    const mine = audit.body.data.filter((e: any) => e.resource_id === nodeId);
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({
      resource_type: "node",
      success: true,
      details: { pid: 900, signal: "SIGTERM" },
    });
    const recorded = await db
      .select()
      .from(events)
      .where(
        and(
          eq(events.type, "edge.process.signalled"),
          sql`json_extract(${events.data}, '$.node_id') = ${nodeId}`,
        ),
      );
    expect(recorded.map((e) => JSON.parse(e.data))).toEqual([
      { node_id: nodeId, pid: 900, signal: "SIGTERM", delivered: true, sent_by: expect.any(String) },
    ]);
    agent.ws.close(1000, "bye");
  });

  it("refuses a signal outside the allow-list before it reaches the agent", async () => {
    const { nodeId, agent } = await connected();
    let asked = 0;
    serve(agent, () => {
      asked++;
      return undefined;
    });
    const res = await api.post(`/api/v1/nodes/${nodeId}/processes/900/signal`, { signal: "SIGSEGV" });
    expect(res.status).toBe(422);
    expect(asked).toBe(0);
    agent.ws.close(1000, "bye");
  });

  it("answers 503 with the node's status when no agent is connected", async () => {
    const { nodeId } = await enrolNode(api, `${P}-c`);
    const res = await api.get(`/api/v1/nodes/${nodeId}/processes`);
    expect(res.status).toBe(503);
    expect(res.body.error).toMatchObject({
      code: "service_unavailable",
      details: { node_status: ["unreachable"] },
    });
  });

  it("answers 404 for an unknown node", async () => {
    expect((await api.get(`/api/v1/nodes/${crypto.randomUUID()}/processes`)).status).toBe(404);
  });

  it("answers 409 naming the capability when the agent lacks it", async () => {
    const { nodeId, agent } = await connected([]);
    const res = await api.get(`/api/v1/nodes/${nodeId}/processes`);
    expect(res.status).toBe(409);
    expect(res.body.error.details.capability).toEqual(["processes.v1"]);
    agent.ws.close(1000, "bye");
  });

  it("waits for the hello of an agent that has just connected instead of refusing it", async () => {
    const { nodeId, token } = await enrolNode(api, `${P}-c`);
    const agent = await connectAgent(api, token);
    serve(agent, () => ({ ok: true, result: { processes: PROCS } }));
    const asked = api.get(`/api/v1/nodes/${nodeId}/processes?name=sleep`);
    await new Promise((resolve) => setTimeout(resolve, 300));
    agent.send({
      type: "hello",
      agent_version: "1.2.3",
      hostname: "h",
      platform: "linux",
      capabilities: ["processes.v1"],
      heartbeat_interval_seconds: 15,
    });
    const res = await asked;
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.data.map((p: { pid: number }) => p.pid)).toEqual([900]);
    agent.ws.close(1000, "bye");
  });

  it("answers 503 agent_timeout when the agent stays silent past NODE_RPC_TIMEOUT_SECONDS", async () => {
    const { nodeId, agent } = await connected();
    serve(agent, () => undefined);
    const started = Date.now();
    const res = await api.get(`/api/v1/nodes/${nodeId}/processes`);
    expect(res.status).toBe(503);
    expect(res.body.error.details.reason).toEqual(["agent_timeout"]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
    agent.ws.close(1000, "bye");
  });

  it("ends a waiting call at once when the agent disconnects", async () => {
    const { nodeId, agent } = await connected();
    serve(agent, () => {
      agent.ws.close(1000, "gone");
      return undefined;
    });
    const started = Date.now();
    const res = await api.get(`/api/v1/nodes/${nodeId}/processes`);
    expect(res.status).toBe(503);
    expect(res.body.error.details.node_status).toBeDefined();
    expect(Date.now() - started).toBeLessThan(1900);
  });
});
