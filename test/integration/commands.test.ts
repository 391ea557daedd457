import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import type { Env } from "../../src/config";
import { createDatabase } from "../../src/db/client";
import { enrolNode } from "./agent-session";
import { createTestApi, type TestApi } from "./harness";

// Command creation reaches NodeSession objects (dispatch), which read the root database: this file
// shares it and keeps apart from other files by a unique prefix on cluster names and command texts.
let api: TestApi;
let db: ReturnType<typeof createDatabase>;
const P = `cm${crypto.randomUUID().slice(0, 6)}`;
const A = `${P}-a`;
const B = `${P}-b`;
const EMPTY = `${P}-e`;
const MINE = { cluster_name: `${P}-*` };
const n: Record<string, string> = {};

const COMMAND_FIELDS = [
  "command_text",
  "expired_at",
  "id",
  "inserted_at",
  "rollout",
  "targeting",
  "timeout",
  "updated_at",
];

async function create(body: object) {
  return api.post("/api/v1/commands", body);
}

async function created(body: object) {
  const res = await create(body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.data;
}

async function executionsOf(commandId: string) {
  const res = await api.get(`/api/v1/command_executions?command_id=${commandId}&page_size=100`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.data as any[];
}

async function targetsOf(commandId: string) {
  return (await executionsOf(commandId)).map((e) => e.node_id).sort();
}

async function details(body: object) {
  const res = await create(body);
  expect(res.status, JSON.stringify(res.body)).toBe(422);
  expect(res.body.error.code).toBe("validation_failed");
  return res.body.error.details as Record<string, string[]>;
}

const sorted = (...ids: string[]) => [...ids].sort();

beforeAll(async () => {
  api = await createTestApi({}, { sharedDatabase: true });
  db = createDatabase({ url: api.env.LIBSQL_URL! });
  for (const name of [A, B, EMPTY]) {
    const res = await api.post("/api/v1/clusters", { name });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
  }
  n.a1 = (await enrolNode(api, A)).nodeId;
  n.a2 = (await enrolNode(api, A, crypto.randomUUID(), "persistent")).nodeId;
  n.b1 = (await enrolNode(api, B)).nodeId;
  await api.patch(`/api/v1/clusters/${B}`, { node_limit: 5 });
});

describe("POST /api/v1/commands", () => {
  it("targets listed nodes (deduplicated) with one pending execution and one created event each", async () => {
    const expiredAt = new Date(Date.now() + 3_600_000).toISOString();
    const res = await create({
      command_text: `${P} echo hi`,
      targeting: { type: "nodes", node_ids: [n.a1, n.a1.toUpperCase(), n.b1, n.a1] },
      timeout: 30_000,
      expired_at: expiredAt,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const cmd = res.body.data;
    expect(Object.keys(cmd).sort()).toEqual(COMMAND_FIELDS);
    expect(cmd).toMatchObject({
      command_text: `${P} echo hi`,
      targeting: { type: "nodes", node_ids: [n.a1, n.b1] },
      timeout: 30_000,
      expired_at: `${expiredAt.slice(0, 19)}Z`,
    });
    expect(cmd.inserted_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const executions = await executionsOf(cmd.id);
    expect(executions.map((e) => e.node_id).sort()).toEqual(sorted(n.a1, n.b1));
    for (const e of executions) {
      expect(e).toMatchObject({
        command_id: cmd.id,
        status: "pending",
        target_all: false,
        cluster_name: null,
        command_text: `${P} echo hi`,
        timeout: 30_000,
        expired_at: cmd.expired_at,
        exit_code: null,
        output: null,
        sent_at: null,
      });
    }
    const events = await db.all<{ data: string }>(
      sql`SELECT data FROM events WHERE type = 'edge.command_execution.created' AND json_extract(data, '$.command_id') = ${cmd.id}`,
    );
    expect(events.map((e) => JSON.parse(e.data).execution_id).sort()).toEqual(
      executions.map((e) => e.id).sort(),
    );
    expect(JSON.parse(events[0].data)).toMatchObject({ command_id: cmd.id, target_all: false });
  });

  it("stores no timeout and no expiry when they are null or omitted", async () => {
    const cmd = await created({
      command_text: `${P} true`,
      targeting: { type: "nodes", node_ids: [n.a1] },
      timeout: null,
      expired_at: null,
    });
    expect(cmd).toMatchObject({ timeout: null, expired_at: null });
    const omitted = await created({
      command_text: `${P} true`,
      targeting: { type: "nodes", node_ids: [n.a1] },
    });
    expect(omitted).toMatchObject({ timeout: null, expired_at: null });
    expect((await executionsOf(omitted.id))[0]).toMatchObject({ timeout: null, expired_at: null });
  });

  it("sets cluster_name only for clusters targeting of exactly one cluster", async () => {
    const one = await created({
      command_text: `${P} one`,
      targeting: { type: "clusters", cluster_names: [A, A] },
    });
    expect(one.targeting).toEqual({ type: "clusters", cluster_names: [A] });
    const oneExecs = await executionsOf(one.id);
    expect(oneExecs.map((e) => e.node_id).sort()).toEqual(sorted(n.a1, n.a2));
    expect(oneExecs.every((e) => e.cluster_name === A && e.target_all === false)).toBe(true);

    const two = await created({
      command_text: `${P} two`,
      targeting: { type: "clusters", cluster_names: [A, B] },
    });
    const twoExecs = await executionsOf(two.id);
    expect(twoExecs.map((e) => e.node_id).sort()).toEqual(sorted(n.a1, n.a2, n.b1));
    expect(twoExecs.every((e) => e.cluster_name === null)).toBe(true);
  });

  it("marks executions of 'all' targeting with target_all", async () => {
    const cmd = await created({ command_text: `${P} all`, targeting: { type: "all", node_filters: MINE } });
    expect(cmd.targeting).toEqual({ type: "all", node_filters: MINE });
    const execs = await executionsOf(cmd.id);
    expect(execs.map((e) => e.node_id).sort()).toEqual(sorted(n.a1, n.a2, n.b1));
    expect(execs.every((e) => e.target_all === true && e.cluster_name === null)).toBe(true);
  });

  it("ANDs node filters, cluster filters and the id/name set", async () => {
    const all = (node_filters: object, cluster_filters?: object) => ({
      command_text: `${P} filtered`,
      targeting: { type: "all", node_filters: { ...MINE, ...node_filters }, cluster_filters },
    });
    expect(await targetsOf((await created(all({ id_type: "persistent" }))).id)).toEqual([n.a2]);
    expect(await targetsOf((await created(all({}, { name: A }))).id)).toEqual(sorted(n.a1, n.a2));
    expect(await targetsOf((await created(all({}, { node_count: 1 }))).id)).toEqual([n.b1]);
    expect(await targetsOf((await created(all({}, { node_count__gte: 2 }))).id)).toEqual(sorted(n.a1, n.a2));
    expect(await targetsOf((await created(all({}, { has_node_limit: true }))).id)).toEqual([n.b1]);
    expect(await targetsOf((await created(all({ inserted_at__gte: "2000-01-01" }))).id)).toHaveLength(3);

    await api.patch(`/api/v1/nodes/${n.a1}`, { self_update_enabled: false });
    expect(await targetsOf((await created(all({ self_update_enabled: false }))).id)).toEqual([n.a1]);
    await api.patch(`/api/v1/nodes/${n.a1}`, { self_update_enabled: true });

    const byIds = await created({
      command_text: `${P} ids`,
      targeting: { type: "nodes", node_ids: [n.a1, n.a2, n.b1], node_filters: { id_type: "random" } },
    });
    expect(await targetsOf(byIds.id)).toEqual(sorted(n.a1, n.b1));
    const byNames = await created({
      command_text: `${P} names`,
      targeting: { type: "clusters", cluster_names: [A, B], cluster_filters: { name: `*-b` } },
    });
    expect(await targetsOf(byNames.id)).toEqual([n.b1]);
  });

  it("refuses unknown node ids and cluster names with 422 naming them", async () => {
    const ghost = crypto.randomUUID();
    expect(
      await details({ command_text: "x", targeting: { type: "nodes", node_ids: [n.a1, ghost] } }),
    ).toEqual({
      "targeting.node_ids": [`unknown node ids: ${ghost}`],
    });
    expect(
      await details({ command_text: "x", targeting: { type: "clusters", cluster_names: [A, `${P}-nope`] } }),
    ).toEqual({ "targeting.cluster_names": [`unknown clusters: ${P}-nope`] });
  });

  it("refuses a targeting that matches no node with 422", async () => {
    for (const targeting of [
      { type: "clusters", cluster_names: [EMPTY] },
      { type: "all", node_filters: { ...MINE, status: "healthy" } },
      { type: "nodes", node_ids: [n.a1], cluster_filters: { name: B } },
    ]) {
      const res = await create({ command_text: `${P} none`, targeting });
      expect(res.status, JSON.stringify(res.body)).toBe(422);
      expect(res.body.error).toMatchObject({
        code: "validation_failed",
        message: "targeting matched no nodes",
        details: { targeting: [expect.stringContaining("matched no nodes")] },
      });
    }
  });

  it("validates every field with per-field details", async () => {
    // Targetings here match nothing even if a rule let them through: never the whole shared fleet.
    const GHOST = crypto.randomUUID();
    const t = { type: "nodes", node_ids: [GHOST] };
    const past = new Date(Date.now() - 60_000).toISOString();
    const cases: [object, string, string][] = [
      [{ targeting: t }, "command_text", "is required"],
      [{ command_text: "x" }, "targeting", "is required"],
      [{ command_text: "", targeting: t }, "command_text", "can't be blank"],
      [{ command_text: 5, targeting: t }, "command_text", "must be a string"],
      [{ command_text: "x", targeting: t, timeout: 0 }, "timeout", "must be greater than 0"],
      [{ command_text: "x", targeting: t, timeout: -5 }, "timeout", "must be greater than 0"],
      [{ command_text: "x", targeting: t, timeout: 1.5 }, "timeout", "must be an integer"],
      [{ command_text: "x", targeting: t, timeout: "10" }, "timeout", "must be an integer"],
      [{ command_text: "x", targeting: t, timeout: 2 ** 31 }, "timeout", "must be at most 2147483647"],
      [{ command_text: "x", targeting: t, expired_at: past }, "expired_at", "must be in the future"],
      [{ command_text: "x", targeting: t, expired_at: "tomorrow" }, "expired_at", "ISO 8601"],
      [{ command_text: "x", targeting: t, extra: 1 }, "extra", "is not a known field"],
      [{ command_text: "x", targeting: "all" }, "targeting", "must be an object"],
      [{ command_text: "x", targeting: {} }, "targeting.type", "is required"],
      [
        { command_text: "x", targeting: { type: "some" } },
        "targeting.type",
        "must be one of: all, nodes, clusters",
      ],
      [
        { command_text: "x", targeting: { type: "nodes" } },
        "targeting.node_ids",
        'is required when type is "nodes"',
      ],
      [
        { command_text: "x", targeting: { type: "nodes", node_ids: [] } },
        "targeting.node_ids",
        "must contain at least one node id",
      ],
      [
        { command_text: "x", targeting: { type: "nodes", node_ids: [GHOST, "abc"] } },
        "targeting.node_ids.1",
        "must be a UUID",
      ],
      [
        { command_text: "x", targeting: { type: "nodes", node_ids: [7] } },
        "targeting.node_ids.0",
        "must be a UUID",
      ],
      [
        { command_text: "x", targeting: { type: "clusters", cluster_names: [EMPTY, ""] } },
        "targeting.cluster_names.1",
        "can't be blank",
      ],
      [
        { command_text: "x", targeting: { type: "nodes", node_ids: "abc" } },
        "targeting.node_ids",
        "must be an array of node ids",
      ],
      [
        { command_text: "x", targeting: { type: "clusters" } },
        "targeting.cluster_names",
        'is required when type is "clusters"',
      ],
      [
        { command_text: "x", targeting: { type: "clusters", cluster_names: [] } },
        "targeting.cluster_names",
        "must contain at least one cluster name",
      ],
      [
        { command_text: "x", targeting: { type: "clusters", cluster_names: [EMPTY], node_ids: [GHOST] } },
        "targeting.node_ids",
        'is only allowed when type is "nodes"',
      ],
      [
        {
          command_text: "x",
          targeting: { type: "nodes", node_ids: [GHOST], cluster_names: [A] },
        },
        "targeting.cluster_names",
        'is only allowed when type is "clusters"',
      ],
      [
        { command_text: "x", targeting: { type: "nodes", node_ids: [GHOST], node_filters: { foo: 1 } } },
        "targeting.node_filters.foo",
        "is not a known field",
      ],
      [
        {
          command_text: "x",
          targeting: { type: "nodes", node_ids: [GHOST], cluster_filters: { cluster_name: "a" } },
        },
        "targeting.cluster_filters.cluster_name",
        "is not a known field",
      ],
      [
        {
          command_text: "x",
          targeting: { type: "nodes", node_ids: [GHOST], node_filters: { status: "bogus" } },
        },
        "targeting.node_filters.status",
        "must be one of: healthy, unhealthy, unreachable",
      ],
      [
        {
          command_text: "x",
          targeting: { type: "nodes", node_ids: [GHOST], node_filters: { inserted_at__gte: "yesterday" } },
        },
        "targeting.node_filters.inserted_at__gte",
        "must be an ISO 8601 datetime",
      ],
      [
        {
          command_text: "x",
          targeting: { type: "nodes", node_ids: [GHOST], node_filters: { self_update_enabled: "yes" } },
        },
        "targeting.node_filters.self_update_enabled",
        "must be true or false",
      ],
      [
        {
          command_text: "x",
          targeting: { type: "nodes", node_ids: [GHOST], cluster_filters: { node_count: "2" } },
        },
        "targeting.cluster_filters.node_count",
        "must be an integer",
      ],
      [
        { command_text: "x", targeting: { type: "nodes", node_ids: [GHOST], cluster_filters: { name: "" } } },
        "targeting.cluster_filters.name",
        "must not be empty",
      ],
      [
        { command_text: "x", targeting: { type: "nodes", node_ids: [GHOST], node_filters: "healthy" } },
        "targeting.node_filters",
        "must be an object",
      ],
    ];
    for (const [body, key, message] of cases) {
      const d = await details(body);
      expect(d[key], `${JSON.stringify(body)} → ${JSON.stringify(d)}`).toEqual(
        expect.arrayContaining([expect.stringContaining(message)]),
      );
    }
    // Several problems are reported together.
    expect(
      Object.keys(await details({ command_text: "", targeting: { type: "nodes" }, timeout: 0 })).sort(),
    ).toEqual(["command_text", "targeting.node_ids", "timeout"]);
  });

  it("refuses a body that is not JSON", async () => {
    const res = await api.fetch("/api/v1/commands", { method: "POST", body: "command_text=x" });
    expect(res.status).toBe(415);
  });
});

describe("POST /api/v1/commands at fleet scale", () => {
  it("writes 10,000 executions and events in one batch and fans out through the queue", async () => {
    const messages: { body: { node_ids: string[] } }[] = [];
    const queue = { sendBatch: async (batch: typeof messages) => void messages.push(...batch) };
    // A private database: 'all' here means these 10,000 nodes, and no Durable Object sees them.
    const big = await createTestApi({ DISPATCH_QUEUE: queue as unknown as Env["DISPATCH_QUEUE"] });
    const bigDb = createDatabase({ url: big.env.LIBSQL_URL! });
    const cluster = (await big.post("/api/v1/clusters", { name: "fleet", ipv4_range: "10.0.0.0/16" })).body
      .data;
    const now = Date.now();
    await bigDb.run(sql`
      WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < 10000)
      INSERT INTO nodes (id, id_type, cluster_id, node_name, status, api_token_hash, api_token_ciphertext,
                         proxy_password_ciphertext, self_update_enabled, inserted_at, updated_at)
      SELECT printf('00000000-0000-4000-8000-%012d', i), 'random', ${cluster.id}, 'node-' || i, 'unreachable',
             'hash-' || i, 'x', 'x', 1, ${now} + i, ${now} + i FROM seq`);

    const empty = await createTestApi();
    const none = await empty.post("/api/v1/commands", { command_text: "uptime", targeting: { type: "all" } });
    expect(none.status).toBe(422);
    expect(none.body.error.message).toBe("targeting matched no nodes");

    const res = await big.post("/api/v1/commands", { command_text: "uptime", targeting: { type: "all" } });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const [{ executions, distinctNodes }] = await bigDb.all<{ executions: number; distinctNodes: number }>(
      sql`SELECT count(*) AS executions, count(DISTINCT node_id) AS distinctNodes FROM command_executions
          WHERE command_id = ${res.body.data.id} AND status = 'pending' AND target_all = 1 AND command_text = 'uptime'`,
    );
    expect({ executions, distinctNodes }).toEqual({ executions: 10_000, distinctNodes: 10_000 });
    const [{ events }] = await bigDb.all<{ events: number }>(
      sql`SELECT count(*) AS events FROM events WHERE type = 'edge.command_execution.created'`,
    );
    expect(events).toBe(10_000);
    expect(messages).toHaveLength(100);
    expect(new Set(messages.flatMap((m) => m.body.node_ids)).size).toBe(10_000);

    // 10,000 explicit ids resolve in one query too.
    const ids = Array.from(
      { length: 10_000 },
      (_, i) => `00000000-0000-4000-8000-${String(i + 1).padStart(12, "0")}`,
    );
    const byIds = await big.post("/api/v1/commands", {
      command_text: "id",
      targeting: { type: "nodes", node_ids: ids },
    });
    expect(byIds.status, JSON.stringify(byIds.body).slice(0, 500)).toBe(201);
    const summary = await big.get(`/api/v1/commands/${byIds.body.data.id}/summary`);
    expect(summary.body.data).toMatchObject({ total: 10_000, counts: { pending: 10_000 } });
  });
});

describe("GET /api/v1/commands", () => {
  const T = `${P}-list`;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    const day = (d: string) => Date.parse(`2025-03-${d}T12:00:00Z`);
    const future = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString();
    const target = { type: "nodes", node_ids: [n.b1] };
    ids.c1 = (await created({ command_text: `${T} docker ps`, targeting: target, timeout: 1000 })).id;
    ids.c2 = (
      await created({ command_text: `${T} docker images`, targeting: target, expired_at: future(2) })
    ).id;
    ids.c3 = (
      await created({ command_text: `${T} uptime`, targeting: target, timeout: 5000, expired_at: future(9) })
    ).id;
    for (const [key, d] of [
      ["c1", "01"],
      ["c2", "02"],
      ["c3", "03"],
    ]) {
      await db.run(
        sql`UPDATE commands SET inserted_at = ${day(d)}, updated_at = ${day(d) + 3_600_000} WHERE id = ${ids[key]}`,
      );
    }
  });

  const label = (id: string) => Object.entries(ids).find(([, v]) => v === id)?.[0] ?? id;
  async function list(query: string) {
    const res = await api.get(`/api/v1/commands?command_text=${encodeURIComponent(`${T}*`)}&${query}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body.data.map((c: any) => label(c.id));
  }

  it("lists in the envelope with pagination, oldest first", async () => {
    const res = await api.get(
      `/api/v1/commands?command_text=${encodeURIComponent(`${T}*`)}&page_size=2&page=2`,
    );
    expect(res.status).toBe(200);
    expect(res.body.data.map((c: any) => label(c.id))).toEqual(["c3"]);
    expect(Object.keys(res.body.data[0]).sort()).toEqual(COMMAND_FIELDS);
    expect(res.body.meta.pagination).toEqual({
      has_next: false,
      has_prev: true,
      next_page: null,
      page: 2,
      page_size: 2,
      prev_page: 1,
      total_count: 3,
      total_pages: 2,
    });
    expect(await list("")).toEqual(["c1", "c2", "c3"]);
  });

  it("filters by command text exactly or by wildcard", async () => {
    const byText = async (text: string) =>
      (await api.get(`/api/v1/commands?command_text=${encodeURIComponent(text)}`)).body.data.map((c: any) =>
        label(c.id),
      );
    expect(await byText(`${T} uptime`)).toEqual(["c3"]);
    expect(await byText(`${T} docker*`)).toEqual(["c1", "c2"]);
    expect(await byText(`*${T.slice(1)} docker images`)).toEqual(["c2"]);
    expect(await byText(`${T} docker`)).toEqual([]);
  });

  it("filters by timeout and expiry presence and ranges", async () => {
    expect(await list("has_timeout=true")).toEqual(["c1", "c3"]);
    expect(await list("has_timeout=false")).toEqual(["c2"]);
    expect(await list("timeout__gte=2000")).toEqual(["c3"]);
    expect(await list("timeout__lte=1000")).toEqual(["c1"]);
    expect(await list("has_expired_at=true")).toEqual(["c2", "c3"]);
    expect(await list("has_expired_at=false")).toEqual(["c1"]);
    const in5days = new Date(Date.now() + 5 * 86_400_000).toISOString();
    expect(await list(`expired_at__gte=${in5days}`)).toEqual(["c3"]);
    expect(await list(`expired_at__lte=${in5days}`)).toEqual(["c2"]);
  });

  it("filters by inserted_at and updated_at ranges (date-only bounds cover the day)", async () => {
    expect(await list("inserted_at__gte=2025-03-02")).toEqual(["c2", "c3"]);
    expect(await list("inserted_at__lte=2025-03-02")).toEqual(["c1", "c2"]);
    expect(await list("updated_at__gte=2025-03-03T13:00:00Z")).toEqual(["c3"]);
    expect(await list("updated_at__lte=2025-03-01T12:59:59Z")).toEqual([]);
  });

  it("sorts by the requested fields and directions", async () => {
    expect(await list("order_by=inserted_at&order_directions=desc")).toEqual(["c3", "c2", "c1"]);
    expect(await list("order_by=timeout&order_directions=desc")).toEqual(["c3", "c1", "c2"]);
    expect(await list("order_by=command_text")).toEqual(["c2", "c1", "c3"]);
    expect(await list("order_by=expired_at")).toEqual(["c1", "c2", "c3"]);
  });

  it("refuses bad parameters with 400 naming them", async () => {
    for (const [query, key] of [
      ["timeout__gte=abc", "timeout__gte"],
      ["has_timeout=maybe", "has_timeout"],
      ["inserted_at__gte=yesterday", "inserted_at__gte"],
      ["order_by=targeting", "order_by"],
      ["node_id=x", "node_id"],
    ]) {
      const res = await api.get(`/api/v1/commands?${query}`);
      expect(res.status, query).toBe(400);
      expect(Object.keys(res.body.error.details)).toContain(key);
    }
  });
});

describe("GET and DELETE /api/v1/commands/{id}", () => {
  it("gets one command, 404 for an unknown id and 400 for a malformed one", async () => {
    const cmd = await created({ command_text: `${P} get`, targeting: { type: "nodes", node_ids: [n.a1] } });
    const res = await api.get(`/api/v1/commands/${cmd.id}`);
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual(cmd);
    const missing = await api.get(`/api/v1/commands/${crypto.randomUUID()}`);
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe("not_found");
    expect((await api.get("/api/v1/commands/nope")).status).toBe(400);
  });

  it("refuses to delete while an execution is pending or sent, then deletes with its executions", async () => {
    const cmd = await created({
      command_text: `${P} del`,
      targeting: { type: "nodes", node_ids: [n.a1, n.a2] },
    });
    const [e1, e2] = await executionsOf(cmd.id);
    const refused = await api.del(`/api/v1/commands/${cmd.id}`);
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({
      code: "conflict",
      message: expect.stringContaining("pending or sent"),
    });

    expect((await api.patch(`/api/v1/command_executions/${e1.id}/cancel`)).status).toBe(200);
    await db.run(
      sql`UPDATE command_executions SET status = 'sent', sent_at = ${Date.now()} WHERE id = ${e2.id}`,
    );
    expect((await api.del(`/api/v1/commands/${cmd.id}`)).status).toBe(409);
    await db.run(sql`UPDATE command_executions SET status = 'completed', exit_code = 0 WHERE id = ${e2.id}`);

    const deleted = await api.del(`/api/v1/commands/${cmd.id}`);
    expect(deleted.status).toBe(204);
    expect((await api.get(`/api/v1/commands/${cmd.id}`)).status).toBe(404);
    expect((await api.get(`/api/v1/command_executions/${e1.id}`)).status).toBe(404);
    expect(await executionsOf(cmd.id)).toEqual([]);
    expect((await api.del(`/api/v1/commands/${cmd.id}`)).status).toBe(404);
  });
});

describe("GET /api/v1/commands/{id}/summary", () => {
  it("counts executions by status, histograms exit codes and spans completion times", async () => {
    const cmd = await created({ command_text: `${P} sum`, targeting: { type: "all", node_filters: MINE } });
    const fresh = await api.get(`/api/v1/commands/${cmd.id}/summary`);
    expect(fresh.status).toBe(200);
    expect(fresh.body.data).toEqual({
      command_id: cmd.id,
      total: 3,
      counts: { pending: 3, sent: 0, completed: 0, cancelled: 0, expired: 0 },
      exit_codes: {},
      first_completed_at: null,
      last_completed_at: null,
    });

    const byNode = Object.fromEntries((await executionsOf(cmd.id)).map((e) => [e.node_id, e.id]));
    const t1 = Date.parse("2025-05-01T10:00:00Z");
    const t2 = Date.parse("2025-05-01T10:05:00Z");
    await db.run(
      sql`UPDATE command_executions SET status = 'completed', exit_code = 0, completed_at = ${t2} WHERE id = ${byNode[n.a1]}`,
    );
    await db.run(
      sql`UPDATE command_executions SET status = 'completed', exit_code = 1, completed_at = ${t1} WHERE id = ${byNode[n.a2]}`,
    );
    await api.patch(`/api/v1/command_executions/${byNode[n.b1]}/cancel`);
    const res = await api.get(`/api/v1/commands/${cmd.id}/summary`);
    expect(res.body.data).toEqual({
      command_id: cmd.id,
      total: 3,
      counts: { pending: 0, sent: 0, completed: 2, cancelled: 1, expired: 0 },
      exit_codes: { "0": 1, "1": 1 },
      first_completed_at: "2025-05-01T10:00:00Z",
      last_completed_at: "2025-05-01T10:05:00Z",
    });
    expect((await api.get(`/api/v1/commands/${crypto.randomUUID()}/summary`)).status).toBe(404);
  });
});
