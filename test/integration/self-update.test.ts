import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDatabase } from "../../src/db/client";
import {
  completeSelfUpdateRequest,
  finishStaleSelfUpdateRequests,
  processSelfUpdateRequest,
  STALE_AFTER_MS,
} from "../../workers/services/self-update";
import { connectAgent, enrolNode } from "./agent-session";
import { createTestApi, type TestApi } from "./harness";

// Self-update requests reach NodeSession objects, which read the root database: this file shares it
// and keeps apart from other files by a unique prefix on cluster names (targetings stay inside it).
let api: TestApi;
let db: ReturnType<typeof createDatabase>;
const P = `su${crypto.randomUUID().slice(0, 6)}`;
const A = `${P}-a`;
const B = `${P}-b`;
const MINE = { name: `${P}-*` };
const STARTED = new Date(Date.now() - 1000).toISOString();
const n: Record<string, string> = {};
const agents: Record<string, Awaited<ReturnType<typeof connectAgent>>> = {};
const RELEASE = {
  version: "9.9.9",
  url: "https://downloads.example.com/outpost-agent-9.9.9.mjs",
  sha256: "ab".repeat(32),
};
const FIELDS = ["id", "inserted_at", "release", "status", "summary", "targeting", "updated_at"];

async function created(body: object) {
  const res = await api.post("/api/v1/self_update_requests", body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.data;
}

async function details(body: object) {
  const res = await api.post("/api/v1/self_update_requests", body);
  expect(res.status, JSON.stringify(res.body)).toBe(422);
  expect(res.body.error.code).toBe("validation_failed");
  return res.body.error.details as Record<string, string[]>;
}

async function eventsOf(type: string, requestId: string) {
  const rows = await db.all<{ data: string }>(
    sql`SELECT data FROM events WHERE type = ${type} AND json_extract(data, '$.request_id') = ${requestId}`,
  );
  return rows.map((r) => JSON.parse(r.data));
}

async function insertRequest(status: string, updatedAt: number, release: object | null = RELEASE) {
  const id = crypto.randomUUID();
  const targeting = {
    type: "clusters",
    cluster_names: [A],
    node_filters: { status: "healthy", self_update_enabled: true },
  };
  await db.run(sql`INSERT INTO self_update_requests (id, targeting, status, summary, release, inserted_at, updated_at)
    VALUES (${id}, ${JSON.stringify(targeting)}, ${status}, NULL, ${release ? JSON.stringify(release) : null}, ${updatedAt}, ${updatedAt})`);
  return id;
}

beforeAll(async () => {
  api = await createTestApi({}, { sharedDatabase: true });
  db = createDatabase({ url: api.env.LIBSQL_URL! });
  for (const name of [A, B]) {
    const res = await api.post("/api/v1/clusters", { name });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
  }
  // a1, a2, b1: connected and healthy. off: healthy but self-update disabled. ghost: marked healthy, never connected.
  // idle: enrolled, never connected (unreachable).
  for (const [key, cluster] of [
    ["a1", A],
    ["a2", A],
    ["b1", B],
    ["off", A],
  ] as const) {
    const { nodeId, token } = await enrolNode(api, cluster);
    n[key] = nodeId;
    agents[key] = await connectAgent(api, token);
    agents[key].hello(600);
    await agents[key].next("config");
  }
  expect((await api.patch(`/api/v1/nodes/${n.off}`, { self_update_enabled: false })).status).toBe(200);
  n.ghost = (await enrolNode(api, B)).nodeId;
  await db.run(sql`UPDATE nodes SET status = 'healthy' WHERE id = ${n.ghost}`);
  n.idle = (await enrolNode(api, B)).nodeId;
});

afterAll(() => {
  for (const agent of Object.values(agents)) agent.ws.close(1000);
});

describe("POST /api/v1/self_update_requests", () => {
  it("answers pending, then triggers every connected eligible node with this server's latest release", async () => {
    const latest = (await api.get("/agent/v1/releases/latest")).body.data;
    const req = await created({ targeting: { type: "all", cluster_filters: MINE } });
    expect(Object.keys(req).sort()).toEqual(FIELDS);
    expect(req).toMatchObject({
      status: "pending",
      summary: null,
      release: { version: latest.version, url: latest.url, sha256: latest.sha256 },
      targeting: {
        type: "all",
        cluster_filters: MINE,
        node_filters: { status: "healthy", self_update_enabled: true },
      },
    });
    expect(req.inserted_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

    const done = (await api.get(`/api/v1/self_update_requests/${req.id}`)).body.data;
    // a1, a2, b1 got it; ghost is healthy but not connected (failed); off and idle are not eligible.
    expect(done).toMatchObject({ status: "completed", summary: { total: 4, triggered: 3, failed: 1 } });
    for (const key of ["a1", "a2", "b1"]) {
      const frame = await agents[key].next("self_update");
      expect(frame).toEqual({
        v: 1,
        type: "self_update",
        version: latest.version,
        url: latest.url,
        sha256: latest.sha256,
      });
    }
    expect(agents.off.frames.some((f) => f.type === "self_update")).toBe(false);

    const triggered = await eventsOf("edge.node.update_triggered", req.id);
    expect(triggered.map((e) => e.node_id).sort()).toEqual([n.a1, n.a2, n.b1].sort());
    expect(triggered.find((e) => e.node_id === n.b1)).toEqual({
      node_id: n.b1,
      cluster_name: B,
      from_version: "1.2.3",
      to_version: latest.version,
      request_id: req.id,
    });
    expect(await eventsOf("edge.self_update_request.completed", req.id)).toEqual([
      { request_id: req.id, summary: { total: 4, triggered: 3, failed: 1 } },
    ]);
  });

  it("rolls out an explicit release (lower-cased digest) to the targeted nodes only", async () => {
    const req = await created({
      targeting: { type: "nodes", node_ids: [n.a1.toUpperCase(), n.off] },
      release: { ...RELEASE, sha256: RELEASE.sha256.toUpperCase() },
    });
    expect(req.release).toEqual(RELEASE);
    expect(req.targeting).toEqual({
      type: "nodes",
      node_ids: [n.a1, n.off],
      node_filters: { status: "healthy", self_update_enabled: true },
    });
    const done = (await api.get(`/api/v1/self_update_requests/${req.id}`)).body.data;
    expect(done.summary).toEqual({ total: 1, triggered: 1, failed: 0 });
    await agents.a1.until(
      () => agents.a1.frames.some((f) => f.type === "self_update" && f.version === "9.9.9"),
      "the explicit release",
    );
    expect(agents.a2.frames.filter((f) => f.type === "self_update")).toHaveLength(1);
  });

  it("accepts filters that agree with the eligibility rule and cluster targeting", async () => {
    const req = await created({
      targeting: {
        type: "clusters",
        cluster_names: [B],
        node_filters: { status: "healthy", self_update_enabled: true, version: "1.2.*" },
      },
      release: RELEASE,
    });
    const done = (await api.get(`/api/v1/self_update_requests/${req.id}`)).body.data;
    expect(done.summary).toEqual({ total: 2, triggered: 1, failed: 1 });
  });

  it("refuses a targeting with no eligible node, unknown ids or names, or contradicting filters", async () => {
    expect(await details({ targeting: { type: "nodes", node_ids: [n.off, n.idle] } })).toEqual({
      targeting: [expect.stringContaining("no healthy nodes with self_update_enabled")],
    });
    expect(
      Object.keys(await details({ targeting: { type: "nodes", node_ids: [crypto.randomUUID()] } })),
    ).toEqual(["targeting.node_ids"]);
    expect(
      Object.keys(await details({ targeting: { type: "clusters", cluster_names: [`${P}-nope`] } })),
    ).toEqual(["targeting.cluster_names"]);
    expect(
      await details({
        targeting: { type: "all", cluster_filters: MINE, node_filters: { status: "unhealthy" } },
      }),
    ).toEqual({ "targeting.node_filters.status": [expect.stringContaining("healthy")] });
    expect(
      Object.keys(
        await details({
          targeting: { type: "all", cluster_filters: MINE, node_filters: { self_update_enabled: false } },
        }),
      ),
    ).toEqual(["targeting.node_filters.self_update_enabled"]);
  });

  it("validates the body like commands do, and the optional release", async () => {
    expect(Object.keys(await details({}))).toEqual(["targeting"]);
    expect(Object.keys(await details({ targeting: { type: "nodes" } }))).toEqual(["targeting.node_ids"]);
    expect(Object.keys(await details({ targeting: { type: "all" }, extra: 1 }))).toEqual(["extra"]);
    const bad = await details({
      targeting: { type: "all", cluster_filters: MINE },
      release: { version: "", url: "ftp://example.com/a.mjs", sha256: "abc" },
    });
    expect(Object.keys(bad).sort()).toEqual(["release.sha256", "release.url", "release.version"]);
    expect(
      Object.keys(
        await details({
          targeting: { type: "all", cluster_filters: MINE },
          release: { ...RELEASE, url: "https://user:pw@example.com/a.mjs" },
        }),
      ),
    ).toEqual(["release.url"]);
    expect(
      Object.keys(
        await details({ targeting: { type: "all", cluster_filters: MINE }, release: { version: "1" } }),
      ).sort(),
    ).toEqual(["release.sha256", "release.url"]);
  });

  it("refuses a plain http release URL unless it is loopback (review L5)", async () => {
    for (const url of [
      "http://downloads.example.com/a.mjs",
      "http://10.0.0.5/a.mjs",
      "http://127.0.0.1.nip.io/a.mjs",
    ]) {
      const bad = await details({
        targeting: { type: "all", cluster_filters: MINE },
        release: { ...RELEASE, url },
      });
      expect(bad["release.url"], url).toEqual([expect.stringMatching(/must be an https URL/)]);
    }
    expect(
      Object.keys(
        await details({ targeting: { type: "all", cluster_filters: MINE }, allow_downgrade: "yes" }),
      ),
    ).toEqual(["allow_downgrade"]);
  });

  it("pins allow_downgrade with the release and sends it in the frame (review L5)", async () => {
    const local = { ...RELEASE, url: "http://127.0.0.1:8787/agent/v1/releases/latest/outpost-agent.mjs" };
    const req = await created({
      targeting: { type: "nodes", node_ids: [n.a1] },
      release: local,
      allow_downgrade: true,
    });
    expect(req.release).toEqual({ ...local, allow_downgrade: true });
    await agents.a1.until(
      () => agents.a1.frames.some((f) => f.type === "self_update" && f.allow_downgrade === true),
      "the frame with allow_downgrade",
    );
    const plain = await created({ targeting: { type: "nodes", node_ids: [n.a1] }, release: RELEASE });
    expect(plain.release).toEqual(RELEASE);
  });

  it("answers 503 when no agent release is available and none is given, after checking the targeting", async () => {
    const bare = await createTestApi({ ASSETS: undefined }, { sharedDatabase: true });
    const res = await bare.post("/api/v1/self_update_requests", {
      targeting: { type: "nodes", node_ids: [n.a1] },
    });
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe("service_unavailable");
    const unknown = await bare.post("/api/v1/self_update_requests", {
      targeting: { type: "nodes", node_ids: [crypto.randomUUID()] },
    });
    expect(unknown.status).toBe(422);
    const explicit = await bare.post("/api/v1/self_update_requests", {
      targeting: { type: "nodes", node_ids: [n.a1] },
      release: RELEASE,
    });
    expect(explicit.status).toBe(201);
  });

  it("answers 415 without JSON and 400 for malformed JSON", async () => {
    const text = await api.fetch("/api/v1/self_update_requests", { method: "POST", body: "x" });
    expect(text.status).toBe(415);
    const broken = await api.fetch("/api/v1/self_update_requests", {
      method: "POST",
      body: "{",
      headers: { "content-type": "application/json" },
    });
    expect(broken.status).toBe(400);
  });
});

describe("GET /api/v1/self_update_requests", () => {
  it("lists with filters, sorting and pagination", async () => {
    const res = await api.get(
      `/api/v1/self_update_requests?status=completed&inserted_at__gte=${STARTED}&order_by=inserted_at&order_directions=desc&page_size=2`,
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.data).toHaveLength(2);
    expect(res.body.data.every((r: any) => r.status === "completed")).toBe(true);
    expect(res.body.data[0].inserted_at >= res.body.data[1].inserted_at).toBe(true);
    expect(res.body.meta.pagination).toMatchObject({ page: 1, page_size: 2, has_prev: false });
    expect(res.body.meta.pagination.total_count).toBeGreaterThanOrEqual(3);
    const none = await api.get(`/api/v1/self_update_requests?status=processing&updated_at__lte=2000-01-01`);
    expect(none.body.data).toEqual([]);
  });

  it("refuses unknown filters and bad values with 400", async () => {
    for (const query of ["status=done", "inserted_at__gte=yesterday", "order_by=targeting", "colour=red"]) {
      const res = await api.get(`/api/v1/self_update_requests?${query}`);
      expect(res.status, query).toBe(400);
      expect(res.body.error.code).toBe("bad_request");
    }
  });
});

describe("GET and DELETE /api/v1/self_update_requests/{id}", () => {
  it("answers 404 for an unknown id and 400 for a malformed one", async () => {
    expect((await api.get(`/api/v1/self_update_requests/${crypto.randomUUID()}`)).status).toBe(404);
    expect((await api.del(`/api/v1/self_update_requests/${crypto.randomUUID()}`)).status).toBe(404);
    expect((await api.get("/api/v1/self_update_requests/not-a-uuid")).status).toBe(400);
  });

  it("deletes a completed request, and refuses pending or processing ones with 409", async () => {
    const req = await created({ targeting: { type: "nodes", node_ids: [n.a2] }, release: RELEASE });
    expect((await api.del(`/api/v1/self_update_requests/${req.id}`)).status).toBe(204);
    expect((await api.get(`/api/v1/self_update_requests/${req.id}`)).status).toBe(404);
    for (const status of ["pending", "processing"]) {
      const id = await insertRequest(status, Date.now());
      const res = await api.del(`/api/v1/self_update_requests/${id}`);
      expect(res.status).toBe(409);
      expect(res.body.error).toMatchObject({ code: "conflict", message: expect.stringContaining(status) });
      await db.run(sql`DELETE FROM self_update_requests WHERE id = ${id}`);
    }
  });
});

describe("background processing and the cron", () => {
  it("finishes requests left pending or processing too long, and leaves fresh ones alone", async () => {
    const old = Date.now() - STALE_AFTER_MS - 1000;
    const stalePending = await insertRequest("pending", old);
    const staleProcessing = await insertRequest("processing", old);
    const fresh = await insertRequest("processing", Date.now());
    await finishStaleSelfUpdateRequests(api.env, db);
    for (const id of [stalePending, staleProcessing]) {
      const row = (await api.get(`/api/v1/self_update_requests/${id}`)).body.data;
      expect(row).toMatchObject({ status: "completed", summary: { total: 2, triggered: 2, failed: 0 } });
      expect(await eventsOf("edge.self_update_request.completed", id)).toHaveLength(1);
    }
    expect((await api.get(`/api/v1/self_update_requests/${fresh}`)).body.data.status).toBe("processing");
    await db.run(sql`DELETE FROM self_update_requests WHERE id = ${fresh}`);
  });

  it("is claimed once: of two concurrent runs exactly one does the work", async () => {
    const id = await insertRequest("pending", Date.now());
    const runs = await Promise.all([
      processSelfUpdateRequest(api.env, db, id),
      processSelfUpdateRequest(api.env, db, id),
    ]);
    expect(runs.filter((r) => r === null)).toHaveLength(1);
    expect(runs.find((r) => r !== null)).toEqual({ total: 2, triggered: 2, failed: 0 });
    expect(await eventsOf("edge.self_update_request.completed", id)).toHaveLength(1);
    expect(await eventsOf("edge.node.update_triggered", id)).toHaveLength(2);
  });

  it("a run that lost its claim to the cron leaves no trace", async () => {
    const claimedAt = Date.now() - STALE_AFTER_MS - 1000;
    const id = await insertRequest("processing", claimedAt);
    // The cron took it over meanwhile: updated_at moved on.
    await db.run(sql`UPDATE self_update_requests SET updated_at = ${claimedAt + 5} WHERE id = ${id}`);
    const payload = {
      node_id: n.a1,
      cluster_name: A,
      from_version: "1.2.3",
      to_version: "9.9.9",
      request_id: id,
    };
    const summary = { total: 1, triggered: 1, failed: 0 };
    expect(await completeSelfUpdateRequest(db, id, claimedAt, summary, [payload])).toBe(false);
    expect((await api.get(`/api/v1/self_update_requests/${id}`)).body.data.status).toBe("processing");
    expect(await eventsOf("edge.node.update_triggered", id)).toEqual([]);
    expect(await eventsOf("edge.self_update_request.completed", id)).toEqual([]);
    expect(await completeSelfUpdateRequest(db, id, claimedAt + 5, summary, [payload])).toBe(true);
    expect(await eventsOf("edge.node.update_triggered", id)).toEqual([payload]);
  });

  it("completes with an empty summary when the targeted nodes are gone", async () => {
    const id = crypto.randomUUID();
    const targeting = { type: "nodes", node_ids: [crypto.randomUUID()], node_filters: { status: "healthy" } };
    await db.run(sql`INSERT INTO self_update_requests (id, targeting, status, release, inserted_at, updated_at)
      VALUES (${id}, ${JSON.stringify(targeting)}, 'pending', ${JSON.stringify(RELEASE)}, ${Date.now()}, ${Date.now()})`);
    expect(await processSelfUpdateRequest(api.env, db, id)).toEqual({ total: 0, triggered: 0, failed: 0 });
    expect((await api.get(`/api/v1/self_update_requests/${id}`)).body.data.summary).toEqual({
      total: 0,
      triggered: 0,
      failed: 0,
    });
  });
});
