import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { createDatabase } from "../../src/db/client";
import {
  applyResults,
  claimPendingForNodes,
  claimPendingForNodesStatements,
  DELIVERY_BATCH,
  resultStatements,
} from "../../src/executions/lifecycle";
import { connectAgent, enrolNode } from "./agent-session";
import { createTestApi, type TestApi } from "./harness";

// Delivery goes through NodeSession objects, which read the root database: this file shares it and
// keeps apart from other files by a unique prefix on its cluster names.
let api: TestApi;
let db: ReturnType<typeof createDatabase>;
const P = `ce${crypto.randomUUID().slice(0, 6)}`;
const LIVE = `${P}-on`;
const NET = Math.floor(Math.random() * 250);

const EXECUTION_FIELDS = [
  "cancelled_at",
  "cluster_name",
  "command_id",
  "command_text",
  "completed_at",
  "exit_code",
  "expired_at",
  "id",
  "inserted_at",
  "node_id",
  "output",
  "sent_at",
  "status",
  "target_all",
  "timeout",
  "updated_at",
];

async function eventually(assertion: () => Promise<void>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await assertion();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

async function makeCluster(name: string, i: number) {
  const res = await api.post("/api/v1/clusters", { name, ipv4_range: `172.${24 + i}.${NET}.0/24` });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
}

/** Creates a command for the given nodes and returns its one execution per node. */
async function run(nodeIds: string[], extra: object = {}) {
  const res = await api.post("/api/v1/commands", {
    command_text: `${P} echo hi`,
    targeting: { type: "nodes", node_ids: nodeIds },
    ...extra,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  const list = await api.get(`/api/v1/command_executions?command_id=${res.body.data.id}`);
  return { command: res.body.data, executions: list.body.data as any[] };
}

async function execution(id: string) {
  const res = await api.get(`/api/v1/command_executions/${id}`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.data;
}

async function online() {
  const { nodeId, token } = await enrolNode(api, LIVE);
  const agent = await connectAgent(api, token);
  agent.hello();
  await agent.next("config");
  return { nodeId, token, agent };
}

/** The statement with its parameters written in as SQL literals (EXPLAIN QUERY PLAN takes no batch). */
function inline(text: string, params: unknown[]): string {
  let i = 0;
  return text.replace(/\?/g, () => {
    const p = params[i++];
    return typeof p === "number" ? String(p) : `'${String(p).replaceAll("'", "''")}'`;
  });
}

type Agent = Awaited<ReturnType<typeof connectAgent>>;
const framesFor = (agent: Agent, type: string, executionId: string) =>
  agent.frames.filter((f: any) => f.type === type && f.execution_id === executionId);
const waitFrame = (agent: Agent, type: string, executionId: string, n = 1) =>
  agent.until(
    () => framesFor(agent, type, executionId).length >= n,
    `${n} ${type} frame(s) for ${executionId}`,
  );

beforeAll(async () => {
  api = await createTestApi({}, { sharedDatabase: true });
  db = createDatabase({ url: api.env.LIBSQL_URL! });
  await makeCluster(LIVE, 0);
});

describe("delivery through a connected agent", () => {
  it("sends exec to a connected agent and marks the row sent; a result completes it and is acked", async () => {
    const { nodeId, agent } = await online();
    const { command, executions } = await run([nodeId], { timeout: 5000 });
    const [e] = executions;
    await waitFrame(agent, "exec", e.id);
    expect(framesFor(agent, "exec", e.id)[0]).toMatchObject({
      execution_id: e.id,
      command: `${P} echo hi`,
      timeout_ms: 5000,
    });
    await eventually(async () => expect((await execution(e.id)).status).toBe("sent"));
    expect((await execution(e.id)).sent_at).not.toBeNull();

    agent.send({
      type: "result",
      execution_id: e.id,
      exit_code: 3,
      output: "hello\nfailed\n",
      truncated: false,
    });
    await waitFrame(agent, "ack", e.id);
    const done = await execution(e.id);
    expect(Object.keys(done).sort()).toEqual(EXECUTION_FIELDS);
    expect(done).toMatchObject({
      status: "completed",
      exit_code: 3,
      output: "hello\nfailed\n",
      cancelled_at: null,
    });
    expect(done.completed_at).not.toBeNull();

    // A duplicate result changes nothing, and is acked again so the agent can forget it.
    agent.send({ type: "result", execution_id: e.id, exit_code: 0, output: "other", truncated: false });
    await waitFrame(agent, "ack", e.id, 2);
    expect(await execution(e.id)).toEqual(done);

    const summary = await api.get(`/api/v1/commands/${command.id}/summary`);
    expect(summary.body.data).toMatchObject({
      total: 1,
      counts: { pending: 0, sent: 0, completed: 1, cancelled: 0, expired: 0 },
      exit_codes: { "3": 1 },
    });
    agent.ws.close(1000);
  });

  it("keeps the execution pending for an offline node and delivers it after hello", async () => {
    const { nodeId, token } = await enrolNode(api, LIVE);
    const { executions } = await run([nodeId]);
    const [e] = executions;
    expect(e.status).toBe("pending");
    const agent = await connectAgent(api, token);
    agent.hello();
    await waitFrame(agent, "exec", e.id);
    await eventually(async () => expect((await execution(e.id)).status).toBe("sent"));
    agent.ws.close(1000);
  });

  it("cancels a sent execution through the agent: exit 143 after the cancel means cancelled", async () => {
    const { nodeId, agent } = await online();
    const [e] = (await run([nodeId])).executions;
    await waitFrame(agent, "exec", e.id);
    await eventually(async () => expect((await execution(e.id)).status).toBe("sent"));

    const res = await api.patch(`/api/v1/command_executions/${e.id}/cancel`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.data).toEqual({ result: "cancellation request sent" });
    await waitFrame(agent, "cancel", e.id);
    expect((await execution(e.id)).status).toBe("sent");

    agent.send({
      type: "result",
      execution_id: e.id,
      exit_code: 143,
      output: "terminated\n",
      truncated: false,
    });
    await waitFrame(agent, "ack", e.id);
    const cancelled = await execution(e.id);
    expect(cancelled).toMatchObject({ status: "cancelled", exit_code: 143, completed_at: null });
    expect(cancelled.cancelled_at).not.toBeNull();

    const again = await api.patch(`/api/v1/command_executions/${e.id}/cancel`);
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({
      code: "conflict",
      message: "Command execution is already cancelled",
    });
    agent.ws.close(1000);
  });

  it("keeps the agent's real result when it finished before the cancel arrived", async () => {
    const { nodeId, agent } = await online();
    const [e] = (await run([nodeId])).executions;
    await waitFrame(agent, "exec", e.id);
    await eventually(async () => expect((await execution(e.id)).status).toBe("sent"));
    expect((await api.patch(`/api/v1/command_executions/${e.id}/cancel`)).status).toBe(200);
    agent.send({ type: "result", execution_id: e.id, exit_code: 0, output: "done\n", truncated: false });
    await waitFrame(agent, "ack", e.id);
    expect(await execution(e.id)).toMatchObject({ status: "completed", exit_code: 0, cancelled_at: null });
  });

  it("records the cancel of a sent execution whose agent has gone away", async () => {
    const { nodeId, agent } = await online();
    const [e] = (await run([nodeId])).executions;
    await waitFrame(agent, "exec", e.id);
    await eventually(async () => expect((await execution(e.id)).status).toBe("sent"));
    agent.ws.close(1000);
    await eventually(async () =>
      expect((await api.get(`/api/v1/nodes/${nodeId}`)).body.data.status).toBe("unreachable"),
    );
    const res = await api.patch(`/api/v1/command_executions/${e.id}/cancel`);
    expect(res.status).toBe(200);
    expect(res.body.data.result).toMatch(/not connected/);
    const [row] = await db.all<{ status: string; cancel_requested_at: number | null }>(
      sql`SELECT status, cancel_requested_at FROM command_executions WHERE id = ${e.id}`,
    );
    expect(row.status).toBe("sent");
    expect(row.cancel_requested_at).not.toBeNull();
  });
});

describe("fan-out and results in bulk", () => {
  it("claims a small command's rows for connected nodes in its creation batch; an offline node's stays pending", async () => {
    const on = await online();
    const { nodeId: offline } = await enrolNode(api, LIVE);
    const { command, executions } = await run([on.nodeId, offline]);
    // Listed right after the POST answered: the claim was part of the command's own write.
    const byNode = Object.fromEntries(executions.map((e) => [e.node_id, e]));
    expect(byNode[on.nodeId]).toMatchObject({ status: "sent" });
    expect(byNode[on.nodeId].sent_at).not.toBeNull();
    expect(byNode[offline]).toMatchObject({ status: "pending", sent_at: null });
    await waitFrame(on.agent, "exec", byNode[on.nodeId].id);
    const events = await db.all<{ type: string; n: number }>(sql`
      SELECT type, count(*) AS n FROM events WHERE json_extract(data, '$.command_id') = ${command.id}
       GROUP BY type ORDER BY type`);
    expect(events).toEqual([
      { type: "edge.command_execution.created", n: 2 },
      { type: "edge.command_execution.sent", n: 1 },
    ]);
    on.agent.ws.close(1000);
  });

  it("applies results that many agents send at once exactly once each, duplicates included", async () => {
    const agents = await Promise.all(Array.from({ length: 12 }, () => online()));
    const { command, executions } = await run(agents.map((a) => a.nodeId));
    const byNode = new Map(executions.map((e) => [e.node_id, e.id as string]));
    await Promise.all(agents.map((a) => waitFrame(a.agent, "exec", byNode.get(a.nodeId)!)));
    agents.forEach((a, i) => {
      const id = byNode.get(a.nodeId)!;
      const result = {
        type: "result" as const,
        execution_id: id,
        exit_code: i,
        output: `out ${i}\n`,
        truncated: false,
      };
      a.agent.send(result);
      // Every third agent repeats itself, as after a reconnect with an unacknowledged result.
      if (i % 3 === 0) a.agent.send({ ...result, exit_code: 99, output: "late duplicate" });
    });
    await Promise.all(
      agents.map((a, i) => waitFrame(a.agent, "ack", byNode.get(a.nodeId)!, i % 3 === 0 ? 2 : 1)),
    );
    for (const [i, a] of agents.entries())
      expect(await execution(byNode.get(a.nodeId)!)).toMatchObject({
        status: "completed",
        exit_code: i,
        output: `out ${i}\n`,
      });
    const [completed] = await db.all<{ n: number }>(sql`
      SELECT count(*) AS n FROM events WHERE type = 'edge.command_execution.completed'
         AND json_extract(data, '$.command_id') = ${command.id}`);
    expect(completed.n).toBe(12);
    for (const a of agents) a.agent.ws.close(1000);
  });

  it("applies a batch of results as if one after the other: wrong node, repeats, cancel, late", async () => {
    const nodes = await Promise.all(Array.from({ length: 4 }, () => enrolNode(api, LIVE)));
    const [n0, n1, n2, n3] = nodes.map((n) => n.nodeId);
    const { command, executions } = await run([n0, n1, n2, n3]);
    const of = new Map(executions.map((e) => [e.node_id, e.id as string]));
    await db.run(sql`UPDATE command_executions SET cancel_requested_at = 1 WHERE id = ${of.get(n2)}`);
    await db.run(sql`UPDATE command_executions SET status = 'expired' WHERE id = ${of.get(n3)}`);
    const result = (node: string, executionOf: string, exitCode: number) => ({
      nodeId: node,
      executionId: of.get(executionOf)!,
      exitCode,
      output: `${exitCode}`,
    });
    const outcomes = await applyResults(db, [
      result(n1, n0, 7), // another node's execution: no effect
      result(n0, n0, 1), // the owner, in the next round: applied
      result(n0, n0, 2), // a repeat: already completed
      result(n1, n1, 0),
      result(n2, n2, 143), // after a cancel request: cancelled
      result(n3, n3, 0), // expired meanwhile: no effect
    ]);
    expect(outcomes).toEqual([null, "completed", null, "completed", "cancelled", null]);
    expect(await execution(of.get(n0)!)).toMatchObject({ status: "completed", exit_code: 1, output: "1" });
    expect(await execution(of.get(n2)!)).toMatchObject({ status: "cancelled", exit_code: 143 });
    expect(await execution(of.get(n3)!)).toMatchObject({ status: "expired", exit_code: null });
    const events = await db.all<{ type: string; node_id: string; exit_code: number }>(sql`
      SELECT type, json_extract(data, '$.node_id') AS node_id, json_extract(data, '$.exit_code') AS exit_code
        FROM events WHERE json_extract(data, '$.command_id') = ${command.id} AND type != 'edge.command_execution.created'
       ORDER BY node_id`);
    expect(events).toEqual(
      [
        { type: "edge.command_execution.completed", node_id: n0, exit_code: 1 },
        { type: "edge.command_execution.completed", node_id: n1, exit_code: 0 },
        { type: "edge.command_execution.cancelled", node_id: n2, exit_code: 143 },
      ].sort((a, b) => (a.node_id < b.node_id ? -1 : 1)),
    );
  });

  it("claims and results find execution rows by primary key, never by walking every live row", async () => {
    const plans: string[][] = [];
    const statements = [
      ...claimPendingForNodesStatements(db, [crypto.randomUUID(), crypto.randomUUID()], DELIVERY_BATCH),
      ...resultStatements(db, [
        { nodeId: crypto.randomUUID(), executionId: crypto.randomUUID(), exitCode: 0, output: "" },
      ]),
    ];
    for (const statement of statements) {
      const query = (statement as unknown as { getQuery(): { sql: string; params: unknown[] } }).getQuery();
      const rows = await db.all<{ detail: string }>(
        sql.join([sql.raw("EXPLAIN QUERY PLAN "), sql.raw(inline(query.sql, query.params))]),
      );
      plans.push(rows.map((r) => r.detail));
    }
    for (const plan of plans) {
      const outer = plan.find((step) => /^(SEARCH|SCAN) e /.test(step));
      expect(outer, plan.join("\n")).toMatch(
        /^SEARCH e USING (COVERING )?INDEX sqlite_autoindex_command_executions_1 \(id=\?\)/,
      );
    }
  });

  it("a dispatcher's claim takes connected nodes' oldest rows first, at most the limit per node", async () => {
    const { nodeId: a } = await enrolNode(api, LIVE);
    const { nodeId: b } = await enrolNode(api, LIVE);
    const { nodeId: away } = await enrolNode(api, LIVE);
    // Three commands, oldest first; each round maps node → its execution id.
    const rounds: Map<string, string>[] = [];
    for (let i = 0; i < 3; i++) {
      const { executions } = await run([a, b, away]);
      expect(executions.map((e) => e.status)).toEqual(["pending", "pending", "pending"]);
      rounds.push(new Map(executions.map((e) => [e.node_id, e.id])));
      await new Promise((r) => setTimeout(r, 5)); // distinct inserted_at: "oldest" is then unambiguous
    }
    // The database believes a and b connected (no session here: the rows are claimed, not pushed).
    await db.run(sql`UPDATE nodes SET status = 'healthy' WHERE id IN (${a}, ${b})`);
    try {
      const claimed = await claimPendingForNodes(db, [a, b, away], 2);
      expect([...claimed.keys()].sort()).toEqual([a, b].sort());
      for (const node of [a, b]) {
        expect(claimed.get(node)!.map((e) => e.id)).toEqual([rounds[0].get(node), rounds[1].get(node)]);
        expect((await execution(rounds[0].get(node)!)).status).toBe("sent");
        expect((await execution(rounds[2].get(node)!)).status).toBe("pending");
      }
      for (const round of rounds) expect((await execution(round.get(away)!)).status).toBe("pending");
    } finally {
      await db.run(sql`UPDATE nodes SET status = 'unreachable' WHERE id IN (${a}, ${b})`);
    }
  });
});

describe("PATCH /api/v1/command_executions/{id}/cancel and DELETE", () => {
  let nodeId: string;
  beforeAll(async () => {
    await makeCluster(`${P}-off`, 1);
    nodeId = (await enrolNode(api, `${P}-off`)).nodeId;
  });

  it("cancels a pending execution at once, with its event", async () => {
    const [e] = (await run([nodeId])).executions;
    const res = await api.patch(`/api/v1/command_executions/${e.id}/cancel`);
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ result: "cancelled" });
    const row = await execution(e.id);
    expect(row).toMatchObject({ status: "cancelled", exit_code: null });
    expect(row.cancelled_at).not.toBeNull();
    const events = await db.all<{ n: number }>(
      sql`SELECT count(*) AS n FROM events WHERE type = 'edge.command_execution.cancelled' AND json_extract(data, '$.execution_id') = ${e.id}`,
    );
    expect(events[0].n).toBe(1);
    expect((await api.patch(`/api/v1/command_executions/${e.id}/cancel`)).status).toBe(409);
  });

  it("answers 404 for an unknown execution and 400 for a malformed id", async () => {
    const ghost = crypto.randomUUID();
    for (const res of [
      await api.patch(`/api/v1/command_executions/${ghost}/cancel`),
      await api.get(`/api/v1/command_executions/${ghost}`),
      await api.del(`/api/v1/command_executions/${ghost}`),
    ]) {
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe("not_found");
    }
    expect((await api.get("/api/v1/command_executions/nope")).status).toBe(400);
    expect((await api.patch("/api/v1/command_executions/nope/cancel")).status).toBe(400);
  });

  it("deletes only terminal executions", async () => {
    const [e] = (await run([nodeId])).executions;
    const refused = await api.del(`/api/v1/command_executions/${e.id}`);
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toMatch(/is pending/);
    await db.run(sql`UPDATE command_executions SET status = 'sent' WHERE id = ${e.id}`);
    expect((await api.del(`/api/v1/command_executions/${e.id}`)).status).toBe(409);
    for (const status of ["completed", "expired"]) {
      const [t] = (await run([nodeId])).executions;
      await db.run(sql`UPDATE command_executions SET status = ${status} WHERE id = ${t.id}`);
      expect((await api.del(`/api/v1/command_executions/${t.id}`)).status).toBe(204);
      expect((await api.get(`/api/v1/command_executions/${t.id}`)).status).toBe(404);
    }
    await api.patch(`/api/v1/command_executions/${(await run([nodeId])).executions[0].id}/cancel`);
    await db.run(sql`UPDATE command_executions SET status = 'completed' WHERE id = ${e.id}`);
    expect((await api.del(`/api/v1/command_executions/${e.id}`)).status).toBe(204);
    expect((await api.del(`/api/v1/command_executions/${e.id}`)).status).toBe(404);
  });
});

describe("GET /api/v1/command_executions", () => {
  const L1 = `${P}-l1`;
  const L2 = `${P}-l2`;
  const SCOPE = `cluster_name=${P}-l*`;
  const n: Record<string, string> = {};
  const c: Record<string, string> = {};
  const label: Record<string, string> = {};

  beforeAll(async () => {
    await makeCluster(L1, 2);
    await makeCluster(L2, 3);
    n.a1 = (await enrolNode(api, L1)).nodeId;
    n.a2 = (await enrolNode(api, L1)).nodeId;
    n.b1 = (await enrolNode(api, L2)).nodeId;
    const make = async (key: string, targeting: object) => {
      const res = await api.post("/api/v1/commands", { command_text: `${P} ${key}`, targeting });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      c[key] = res.body.data.id;
    };
    await make("cmd1", { type: "clusters", cluster_names: [L1] });
    await make("cmd2", { type: "nodes", node_ids: [n.a1, n.b1] });
    await make("cmd3", { type: "all", node_filters: { cluster_name: `${P}-l*` } });
    const at = (s: string) => Date.parse(s);
    // label, command, node, status, exit, output, inserted, sent, completed, cancelled
    const plan = [
      [
        "x1",
        "cmd1",
        "a1",
        "completed",
        0,
        "all good\n",
        "2024-12-01T00:00:00Z",
        "2025-01-01T09:59:00Z",
        "2025-01-01T10:00:00Z",
        null,
      ],
      [
        "x2",
        "cmd1",
        "a2",
        "completed",
        2,
        "disk failed: /dev/sda\n",
        "2024-12-02T00:00:00Z",
        "2025-01-02T09:00:00Z",
        "2025-01-02T10:00:00Z",
        null,
      ],
      [
        "x3",
        "cmd2",
        "a1",
        "cancelled",
        143,
        "",
        "2025-01-03T00:00:00Z",
        "2025-01-03T00:00:01Z",
        null,
        "2025-01-03T00:01:00Z",
      ],
      ["x4", "cmd2", "b1", "expired", null, null, "2025-01-04T00:00:00Z", null, null, null],
      ["x5", "cmd3", "a1", "pending", null, null, "2025-01-05T00:00:00Z", null, null, null],
      ["x6", "cmd3", "a2", "pending", null, null, "2025-01-06T00:00:00Z", null, null, null],
      ["x7", "cmd3", "b1", "pending", null, null, "2025-01-07T00:00:00Z", null, null, null],
    ] as const;
    for (const [name, cmd, node, status, exit, output, ins, sent, done, cancelled] of plan) {
      const [row] = await db.all<{ id: string }>(
        sql`SELECT id FROM command_executions WHERE command_id = ${c[cmd]} AND node_id = ${n[node]}`,
      );
      label[row.id] = name;
      await db.run(sql`UPDATE command_executions SET status = ${status}, exit_code = ${exit}, output = ${output},
        inserted_at = ${at(ins)}, updated_at = ${at(ins) + 1000}, sent_at = ${sent && at(sent)},
        completed_at = ${done && at(done)}, cancelled_at = ${cancelled && at(cancelled)} WHERE id = ${row.id}`);
    }
  });

  async function labels(query: string) {
    const res = await api.get(`/api/v1/command_executions?${SCOPE}&${query}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body.data.map((e: any) => label[e.id] ?? e.id);
  }

  it("lists in the envelope, oldest first, with the seed's fields", async () => {
    const res = await api.get(`/api/v1/command_executions?${SCOPE}`);
    expect(res.status).toBe(200);
    expect(res.body.data.map((e: any) => label[e.id])).toEqual(["x1", "x2", "x3", "x4", "x5", "x6", "x7"]);
    expect(Object.keys(res.body.data[0]).sort()).toEqual(EXECUTION_FIELDS);
    expect(res.body.data[0]).toMatchObject({
      command_id: c.cmd1,
      node_id: n.a1,
      cluster_name: L1,
      status: "completed",
      exit_code: 0,
      output: "all good\n",
      target_all: false,
      inserted_at: "2024-12-01T00:00:00Z",
      sent_at: "2025-01-01T09:59:00Z",
      completed_at: "2025-01-01T10:00:00Z",
      cancelled_at: null,
    });
  });

  it("paginates", async () => {
    const res = await api.get(`/api/v1/command_executions?${SCOPE}&page=2&page_size=3`);
    expect(res.body.data.map((e: any) => label[e.id])).toEqual(["x4", "x5", "x6"]);
    expect(res.body.meta.pagination).toEqual({
      has_next: true,
      has_prev: true,
      next_page: 3,
      page: 2,
      page_size: 3,
      prev_page: 1,
      total_count: 7,
      total_pages: 3,
    });
  });

  it("filters by the node's cluster, exactly or by wildcard", async () => {
    const get = async (q: string) =>
      (await api.get(`/api/v1/command_executions?${q}`)).body.data.map((e: any) => label[e.id]);
    expect(await get(`cluster_name=${L2}`)).toEqual(["x4", "x7"]);
    expect(await get(`cluster_name=*${P.slice(1)}-l1`)).toEqual(["x1", "x2", "x3", "x5", "x6"]);
    expect(await get(`cluster_name=${P}-l`)).toEqual([]);
  });

  it("filters by command, node, status and target_all", async () => {
    expect(await labels(`command_id=${c.cmd2}`)).toEqual(["x3", "x4"]);
    expect(await labels(`command_id=${c.cmd2.toUpperCase()}`)).toEqual(["x3", "x4"]);
    expect(await labels(`node_id=${n.a1}`)).toEqual(["x1", "x3", "x5"]);
    expect(await labels(`node_id=${n.a1}&command_id=${c.cmd3}`)).toEqual(["x5"]);
    expect(await labels("status=pending")).toEqual(["x5", "x6", "x7"]);
    expect(await labels("status=expired")).toEqual(["x4"]);
    expect(await labels("target_all=true")).toEqual(["x5", "x6", "x7"]);
    expect(await labels("target_all=false")).toEqual(["x1", "x2", "x3", "x4"]);
  });

  it("filters by exit code, exactly and by range", async () => {
    expect(await labels("exit_code=2")).toEqual(["x2"]);
    expect(await labels("exit_code__gte=1")).toEqual(["x2", "x3"]);
    expect(await labels("exit_code__lte=0")).toEqual(["x1"]);
    expect(await labels("exit_code__gte=1&exit_code__lte=100")).toEqual(["x2"]);
  });

  it("searches output exactly or by wildcard, and filters by its presence and the cluster's", async () => {
    expect(await labels(`output=${encodeURIComponent("*failed*")}`)).toEqual(["x2"]);
    expect(await labels(`output=${encodeURIComponent("all*")}`)).toEqual(["x1"]);
    expect(await labels(`output=${encodeURIComponent("all good\n")}`)).toEqual(["x1"]);
    expect(await labels("output=failed")).toEqual([]);
    expect(await labels(`output=${encodeURIComponent("*FAILED*")}`)).toEqual([]);
    expect(await labels("has_output=true")).toEqual(["x1", "x2"]);
    expect(await labels("has_output=false")).toEqual(["x3", "x4", "x5", "x6", "x7"]);
    expect(await labels("has_cluster=true")).toEqual(["x1", "x2"]);
    expect(await labels("has_cluster=false")).toEqual(["x3", "x4", "x5", "x6", "x7"]);
  });

  it("filters by every datetime range", async () => {
    expect(await labels("inserted_at__lte=2024-12-31")).toEqual(["x1", "x2"]);
    expect(await labels("inserted_at__gte=2025-01-06")).toEqual(["x6", "x7"]);
    expect(await labels("updated_at__gte=2025-01-07T00:00:01Z")).toEqual(["x7"]);
    expect(await labels("updated_at__lte=2024-12-01T00:00:00Z")).toEqual([]);
    expect(await labels("sent_at__gte=2025-01-02")).toEqual(["x2", "x3"]);
    expect(await labels("sent_at__lte=2025-01-01")).toEqual(["x1"]);
    expect(await labels("completed_at__gte=2025-01-02T10:00:00Z")).toEqual(["x2"]);
    expect(await labels("completed_at__lte=2025-01-01")).toEqual(["x1"]);
    expect(await labels("cancelled_at__gte=2025-01-03")).toEqual(["x3"]);
    expect(await labels("cancelled_at__lte=2025-01-02")).toEqual([]);
  });

  it("sorts by the requested fields and directions", async () => {
    expect(await labels("order_by=inserted_at&order_directions=desc")).toEqual([
      "x7",
      "x6",
      "x5",
      "x4",
      "x3",
      "x2",
      "x1",
    ]);
    expect(await labels("status=completed&order_by=exit_code&order_directions=desc")).toEqual(["x2", "x1"]);
    expect(await labels(`command_id=${c.cmd1}&order_by=completed_at&order_directions=desc`)).toEqual([
      "x2",
      "x1",
    ]);
    expect(await labels("order_by=status,inserted_at&order_directions=asc,desc")).toEqual([
      "x3",
      "x2",
      "x1",
      "x4",
      "x7",
      "x6",
      "x5",
    ]);
  });

  it("refuses bad parameters with 400 naming them", async () => {
    for (const [query, key] of [
      ["status=running", "status"],
      ["exit_code=x", "exit_code"],
      ["exit_code__gte=1.5", "exit_code__gte"],
      ["command_id=nope", "command_id"],
      ["node_id=nope", "node_id"],
      ["has_output=maybe", "has_output"],
      ["target_all=yes", "target_all"],
      ["sent_at__gte=soon", "sent_at__gte"],
      ["order_by=output", "order_by"],
      ["command_text=x", "command_text"],
    ]) {
      const res = await api.get(`/api/v1/command_executions?${query}`);
      expect(res.status, query).toBe(400);
      expect(res.body.error.code).toBe("bad_request");
      expect(Object.keys(res.body.error.details), query).toContain(key);
    }
  });
});
