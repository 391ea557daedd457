// Self-update rollouts (C11 for agent releases) through the real Worker and NodeSessions, with
// scripted agents on real WebSockets: one agent at a time, each slot held until the agent says
// hello on the release's version; a node that cannot be told fails, and past max_errors the rest
// are cancelled.
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDatabase } from "../../src/db/client";
import { connectAgent, enrolNode } from "./agent-session";
import { createTestApi, type TestApi } from "./harness";

let api: TestApi;
let db: ReturnType<typeof createDatabase>;
const P = `sr${crypto.randomUUID().slice(0, 6)}`;
const RELEASE = { version: "9.9.9", url: "https://downloads.example.com/a.mjs", sha256: "cd".repeat(32) };
type Agent = Awaited<ReturnType<typeof connectAgent>>;
const open: Agent[] = [];

function hello(agent: Agent, version: string) {
  agent.send({
    type: "hello",
    agent_version: version,
    hostname: "host-a",
    platform: "linux",
    capabilities: [],
    heartbeat_interval_seconds: 600,
  });
}

async function online(cluster: string) {
  const { nodeId, token } = await enrolNode(api, cluster);
  const agent = await connectAgent(api, token);
  open.push(agent);
  hello(agent, "1.2.3");
  await agent.next("config");
  return { nodeId, token, agent };
}

/** The agent "updates": its connection goes, the new version connects and says hello. */
async function updated(token: string) {
  const agent = await connectAgent(api, token);
  open.push(agent);
  hello(agent, RELEASE.version);
  await agent.next("config");
}

async function request(id: string) {
  const res = await api.get(`/api/v1/self_update_requests/${id}`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.data;
}

async function until<T>(read: () => Promise<T | undefined>, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const told = (agent: Agent) => agent.frames.some((f) => f.type === "self_update");

beforeAll(async () => {
  api = await createTestApi({}, { sharedDatabase: true });
  db = createDatabase({ url: api.env.LIBSQL_URL! });
  for (const name of [`${P}-one`, `${P}-two`]) {
    const res = await api.post("/api/v1/clusters", { name });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
  }
});

afterAll(() => {
  for (const agent of open) agent.ws.close(1000);
});

describe("self-update rollouts", () => {
  it("validates the limits like a command's", async () => {
    const res = await api.post("/api/v1/self_update_requests", {
      targeting: { type: "clusters", cluster_names: [`${P}-one`] },
      release: RELEASE,
      max_errors: 1,
      max_concurrency: "0%",
    });
    expect(res.status).toBe(422);
    expect(Object.keys(res.body.error.details).sort()).toEqual(["max_concurrency"]);
    const alone = await api.post("/api/v1/self_update_requests", {
      targeting: { type: "clusters", cluster_names: [`${P}-one`] },
      release: RELEASE,
      max_errors: 1,
    });
    expect(alone.status).toBe(422);
    expect(alone.body.error.details.max_errors).toEqual(["needs max_concurrency"]);
  });

  it("tells one agent at a time, each after the one before came back on the release", async () => {
    const nodes = [await online(`${P}-one`), await online(`${P}-one`), await online(`${P}-one`)];
    const res = await api.post("/api/v1/self_update_requests", {
      targeting: { type: "clusters", cluster_names: [`${P}-one`] },
      release: RELEASE,
      max_concurrency: 1,
      max_errors: 0,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const id = res.body.data.id;
    expect(res.body.data.rollout).toMatchObject({ max_concurrency: "1", max_errors: "0", order: "oldest" });
    for (const [i, node] of nodes.entries()) {
      await until(async () => told(node.agent) || undefined, `agent ${i} told`);
      // Nobody after it is told while it updates.
      for (const later of nodes.slice(i + 1)) expect(told(later.agent)).toBe(false);
      const r = await request(id);
      expect(r.rollout.nodes).toMatchObject({ updating: 1, ...(i > 0 ? { updated: i } : {}) });
      await new Promise((r) => setTimeout(r, 300));
      for (const later of nodes.slice(i + 1)) expect(told(later.agent)).toBe(false);
      node.agent.ws.close(1000);
      await updated(node.token);
    }
    const done = await until(async () => {
      const r = await request(id);
      return r.status === "completed" ? r : undefined;
    }, "completed");
    expect(done.summary).toEqual({ total: 3, triggered: 3, failed: 0 });
    expect(done.rollout).toMatchObject({
      status: "completed",
      concurrency_limit: 1,
      error_limit: 0,
      nodes: { updated: 3 },
    });
    const events = await db.all<{ data: string }>(
      sql`SELECT data FROM events WHERE type = 'edge.node.update_triggered' AND json_extract(data, '$.request_id') = ${id}`,
    );
    expect(events.map((e) => JSON.parse(e.data).node_id).sort()).toEqual(nodes.map((n) => n.nodeId).sort());
  });

  it("a node that cannot be told fails; past max_errors the waiting ones are cancelled", async () => {
    const first = await online(`${P}-two`);
    // Enrolled and marked healthy, but its agent is not connected when its turn comes.
    const ghost = (await enrolNode(api, `${P}-two`)).nodeId;
    await db.run(sql`UPDATE nodes SET status = 'healthy' WHERE id = ${ghost}`);
    const last = await online(`${P}-two`);
    const res = await api.post("/api/v1/self_update_requests", {
      targeting: { type: "clusters", cluster_names: [`${P}-two`] },
      release: RELEASE,
      max_concurrency: 1,
      max_errors: 0,
    });
    const id = res.body.data.id;
    await until(async () => told(first.agent) || undefined, "first told");
    first.agent.ws.close(1000);
    await updated(first.token);
    const done = await until(async () => {
      const r = await request(id);
      return r.status === "completed" ? r : undefined;
    }, "completed");
    expect(done.rollout.status).toBe("stopped");
    expect(done.rollout.reason).toMatch(/1 nodes failed, more than max_errors \(0\)/);
    expect(done.rollout.nodes).toEqual({ updated: 1, failed: 1, cancelled: 1 });
    expect(done.summary).toEqual({ total: 3, triggered: 1, failed: 2 });
    expect(told(last.agent)).toBe(false);
  });
});
