import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { createDatabase } from "../../src/db/client";
import { decodeKeyBlob } from "../../src/enrollment/key-blob";
import { nodeRegistrationsJob } from "../../workers/cron/node-registrations";
import { as } from "./access-fixture";
import { createTestApi, type TestApi } from "./harness";

// Registration approval (issue 16, C18): a key with requires_approval makes enrolment a registration
// that an administrator approves or rejects; the agent polls the enrolment endpoint with its id and
// secret. Its own database, so the counts below are this file's alone.
let api: TestApi;
let db: ReturnType<typeof createDatabase>;
const MAIN = "reg-main";
const OTHER = "reg-other";

async function newKey(cluster: string, extra: Record<string, unknown> = {}) {
  const res = await api.post(`/api/v1/clusters/${cluster}/enrollment_keys`, { uses_remaining: 5, ...extra });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return { id: res.body.data.id as string, secret: decodeKeyBlob(res.body.data.key)?.key ?? "" };
}

async function enrol(secret: string, nodeId: string, extra: Record<string, unknown> = {}) {
  const res = await api.fetch("/agent/v1/enroll", {
    method: "POST",
    auth: null,
    headers: { "cf-connecting-ip": "192.0.2.7" },
    json: {
      key: secret,
      node_id: nodeId,
      id_type: "persistent",
      hostname: "pending-host",
      platform: "linux",
      arch: "x64",
      version: "1.2.3",
      ...extra,
    },
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** A pending registration: its id, its secret and the node id it proposes. */
async function registered(cluster = MAIN, hostname = "pending-host") {
  const key = await newKey(cluster, { requires_approval: true });
  const nodeId = crypto.randomUUID();
  const res = await enrol(key.secret, nodeId, { hostname });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return {
    id: res.body.data.registration_id as string,
    secret: res.body.data.registration_secret,
    nodeId,
    key,
  };
}

const poll = (
  reg: { id: string; secret: string; nodeId: string; key: { secret: string } },
  secret = reg.secret,
) => enrol(reg.key.secret, reg.nodeId, { registration_id: reg.id, registration_secret: secret });

async function eventsOf(registrationId: string) {
  const rows = await db.all<{ type: string; data: string }>(
    sql`SELECT type, data FROM events WHERE type LIKE 'edge.node_registration.%' AND json_extract(data, '$.registration_id') = ${registrationId} ORDER BY occurred_at, rowid`,
  );
  return rows.map((r) => ({ type: r.type, data: JSON.parse(r.data) }));
}

beforeAll(async () => {
  api = await createTestApi();
  db = createDatabase({ url: api.env.LIBSQL_URL! });
  for (const name of [MAIN, OTHER]) expect((await api.post("/api/v1/clusters", { name })).status).toBe(201);
});

describe("enrollment keys: requires_approval", () => {
  it("defaults to false, can be set at creation and by update, and filters the list", async () => {
    const plain = await api.post(`/api/v1/clusters/${MAIN}/enrollment_keys`, {});
    expect(plain.body.data.requires_approval).toBe(false);
    const gated = await api.post(`/api/v1/clusters/${MAIN}/enrollment_keys`, { requires_approval: true });
    expect(gated.body.data.requires_approval).toBe(true);
    const listed = await api.get("/api/v1/enrollment_keys?requires_approval=true&page_size=100");
    const ids = listed.body.data.map((k: { id: string }) => k.id);
    expect(ids).toContain(gated.body.data.id);
    expect(ids).not.toContain(plain.body.data.id);
    const updated = await api.patch(`/api/v1/enrollment_keys/${plain.body.data.id}`, {
      requires_approval: true,
    });
    expect(updated.body.data.requires_approval).toBe(true);
    const bad = await api.post(`/api/v1/clusters/${MAIN}/enrollment_keys`, { requires_approval: "yes" });
    expect(bad.status).toBe(422);
    expect(bad.body.error.details.requires_approval).toBeDefined();
  });
});

describe("enrolment with a key that requires approval", () => {
  it("answers 202 with a registration, spends a key use, creates no node and records an event", async () => {
    const key = await newKey(MAIN, { requires_approval: true });
    const nodeId = crypto.randomUUID();
    const res = await enrol(key.secret, nodeId);
    expect(res.status).toBe(202);
    expect(res.body.data).toEqual({
      registration_id: expect.any(String),
      registration_secret: expect.any(String),
      status: "pending",
      retry_after_seconds: expect.any(Number),
    });
    expect((await api.get(`/api/v1/enrollment_keys/${key.id}`)).body.data.uses_remaining).toBe(4);
    expect((await api.get(`/api/v1/nodes/${nodeId}`)).status).toBe(404);
    const reg = (await api.get(`/api/v1/node_registrations/${res.body.data.registration_id}`)).body.data;
    expect(reg).toMatchObject({
      status: "pending",
      node_id: nodeId,
      id_type: "persistent",
      cluster_name: MAIN,
      enrollment_key_id: key.id,
      hostname: "pending-host",
      platform: "linux",
      arch: "x64",
      agent_version: "1.2.3",
      ip: "192.0.2.7",
      decided_by: null,
      decided_at: null,
    });
    expect(Date.parse(reg.expires_at) - Date.parse(reg.inserted_at)).toBe(7 * 86_400_000);
    expect(JSON.stringify(reg)).not.toContain(res.body.data.registration_secret);
    expect((await eventsOf(reg.id)).map((e) => e.type)).toEqual(["edge.node_registration.requested"]);
  });

  it("paces the agent's polls by NODE_REGISTRATION_POLL_SECONDS", async () => {
    // Same database, the setting changed: the 202 answer and a poll both carry it.
    const paced = await createTestApi({
      NODE_REGISTRATION_POLL_SECONDS: "2",
      LIBSQL_URL: api.env.LIBSQL_URL,
    });
    const key = await newKey(MAIN, { requires_approval: true });
    const body = {
      key: key.secret,
      node_id: crypto.randomUUID(),
      id_type: "random",
      hostname: "paced-host",
      platform: "linux",
      version: "1.2.3",
    };
    const send = async (json: Record<string, unknown>) => {
      const res = await paced.fetch("/agent/v1/enroll", { method: "POST", auth: null, json });
      return { status: res.status, body: await res.json<any>() };
    };
    const first = await send(body);
    expect(first.status).toBe(202);
    expect(first.body.data.retry_after_seconds).toBe(2);
    const again = await send({
      ...body,
      registration_id: first.body.data.registration_id,
      registration_secret: first.body.data.registration_secret,
    });
    expect(again.status).toBe(202);
    expect(again.body.data.retry_after_seconds).toBe(2);
  });

  it("answers a poll with 202 while pending, 401 for a wrong secret, 422 for a half poll", async () => {
    const reg = await registered();
    const pending = await poll(reg);
    expect(pending.status).toBe(202);
    expect(pending.body.data).toEqual({
      registration_id: reg.id,
      status: "pending",
      retry_after_seconds: 10,
    });
    expect((await poll(reg, "wrong")).status).toBe(401);
    expect((await poll({ ...reg, nodeId: crypto.randomUUID() })).status).toBe(401);
    const half = await enrol(reg.key.secret, reg.nodeId, { registration_id: reg.id });
    expect(half.status).toBe(422);
    expect(half.body.error.details.registration_secret).toBeDefined();
  });

  it("approval creates the node; the next poll hands it over once with its token", async () => {
    const reg = await registered();
    const approved = await api.patch(`/api/v1/node_registrations/${reg.id}/approve`, {});
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    expect(approved.body.data).toMatchObject({ status: "approved", decided_by: "API_KEY", expires_at: null });
    const node = (await api.get(`/api/v1/nodes/${reg.nodeId}`)).body.data;
    expect(node).toMatchObject({ id: reg.nodeId, cluster_name: MAIN, hostname: "pending-host" });

    const collected = await poll(reg);
    expect(collected.status).toBe(201);
    expect(collected.body.data).toMatchObject({ id: reg.nodeId, api_token: node.api_token });
    const again = await poll(reg);
    expect(again.status).toBe(409);
    expect((await api.patch(`/api/v1/node_registrations/${reg.id}/approve`, {})).status).toBe(409);
    expect((await api.patch(`/api/v1/node_registrations/${reg.id}/reject`)).status).toBe(409);
    const events = await eventsOf(reg.id);
    expect(events.map((e) => e.type)).toEqual([
      "edge.node_registration.requested",
      "edge.node_registration.approved",
    ]);
    expect(events[1].data).toMatchObject({ node_id: reg.nodeId, cluster_name: MAIN, decided_by: "API_KEY" });
  });

  it("approval may place the node in another cluster; an unknown one is a 422", async () => {
    const reg = await registered();
    const unknown = await api.patch(`/api/v1/node_registrations/${reg.id}/approve`, { cluster_name: "nope" });
    expect(unknown.status).toBe(422);
    expect(unknown.body.error.details.cluster_name).toBeDefined();
    const moved = await api.patch(`/api/v1/node_registrations/${reg.id}/approve`, { cluster_name: OTHER });
    expect(moved.status).toBe(200);
    expect(moved.body.data.cluster_name).toBe(OTHER);
    expect((await api.get(`/api/v1/nodes/${reg.nodeId}`)).body.data.cluster_name).toBe(OTHER);
  });

  it("rejection answers the agent's poll with 403 and creates no node", async () => {
    const reg = await registered();
    const rejected = await api.patch(`/api/v1/node_registrations/${reg.id}/reject`);
    expect(rejected.status).toBe(200);
    expect(rejected.body.data).toMatchObject({ status: "rejected", decided_by: "API_KEY" });
    const res = await poll(reg);
    expect(res.status).toBe(403);
    expect(res.body.error.message).toContain("rejected");
    expect((await api.get(`/api/v1/nodes/${reg.nodeId}`)).status).toBe(404);
    expect((await api.patch(`/api/v1/node_registrations/${reg.id}/approve`, {})).status).toBe(409);
    expect((await eventsOf(reg.id)).map((e) => e.type)).toEqual([
      "edge.node_registration.requested",
      "edge.node_registration.rejected",
    ]);
  });

  it("approval keeps the takeover rules: a registration cannot take an enrolled node's id", async () => {
    const key = await newKey(MAIN);
    const nodeId = crypto.randomUUID();
    expect((await enrol(key.secret, nodeId)).status).toBe(201);
    // Without proof the registration is refused up front (H1) ...
    const gated = await newKey(MAIN, { requires_approval: true });
    expect((await enrol(gated.secret, nodeId)).status).toBe(409);
    // ... and one that raced the node's enrolment is refused at approval.
    const reg = await registered();
    expect((await enrol(key.secret, reg.nodeId)).status).toBe(201);
    const res = await api.patch(`/api/v1/node_registrations/${reg.id}/approve`, {});
    expect(res.status).toBe(409);
    expect((await api.get(`/api/v1/node_registrations/${reg.id}`)).body.data.status).toBe("pending");
  });

  it("a node proving itself with its current token re-registers without approval", async () => {
    const key = await newKey(MAIN);
    const nodeId = crypto.randomUUID();
    const first = await enrol(key.secret, nodeId);
    expect(first.status).toBe(201);
    const gated = await newKey(MAIN, { requires_approval: true });
    const again = await enrol(gated.secret, nodeId, { api_token: first.body.data.api_token });
    expect(again.status).toBe(201);
    expect(again.body.data.id).toBe(nodeId);
  });

  it("a pending registration of a node whose token was revoked updates that node at approval", async () => {
    const key = await newKey(MAIN);
    const nodeId = crypto.randomUUID();
    const first = await enrol(key.secret, nodeId);
    expect((await api.patch(`/api/v1/nodes/${nodeId}/revoke_token`)).status).toBe(200);
    const gated = await newKey(MAIN, { requires_approval: true });
    const res = await enrol(gated.secret, nodeId);
    expect(res.status).toBe(202);
    const reg = {
      id: res.body.data.registration_id,
      secret: res.body.data.registration_secret,
      nodeId,
      key: gated,
    };
    expect((await api.patch(`/api/v1/node_registrations/${reg.id}/approve`, {})).status).toBe(200);
    const collected = await poll(reg);
    expect(collected.status).toBe(201);
    expect(collected.body.data.api_token).not.toBe(first.body.data.api_token);
    expect(collected.body.data.ipv4_address).toBe(first.body.data.ipv4_address);
  });
});

describe("re-registration with the saved token (outpost-agent enroll --reenroll, H1 follow-up)", () => {
  it("takes a random id again only with its current token, keeping the node's cluster and address", async () => {
    const key = await newKey(MAIN);
    const nodeId = crypto.randomUUID();
    const first = await enrol(key.secret, nodeId, { id_type: "random" });
    expect(first.status).toBe(201);
    const without = await enrol(key.secret, nodeId, { id_type: "random" });
    expect(without.status).toBe(409);
    const wrong = await enrol(key.secret, nodeId, { id_type: "random", api_token: "not-the-token" });
    expect(wrong.status).toBe(409);
    const asPersistent = await enrol(key.secret, nodeId, { api_token: first.body.data.api_token });
    expect(asPersistent.status).toBe(409);
    const proven = await enrol(key.secret, nodeId, {
      id_type: "random",
      api_token: first.body.data.api_token,
    });
    expect(proven.status, JSON.stringify(proven.body)).toBe(201);
    expect(proven.body.data).toMatchObject({
      id: nodeId,
      cluster_name: MAIN,
      ipv4_address: first.body.data.ipv4_address,
    });
    expect(proven.body.data.api_token).not.toBe(first.body.data.api_token);
    // The replaced token proves nothing any more.
    const stale = await enrol(key.secret, nodeId, {
      id_type: "random",
      api_token: first.body.data.api_token,
    });
    expect(stale.status).toBe(409);
  });
});

describe("GET /api/v1/node_registrations", () => {
  it("filters by status, cluster_name, hostname and inserted_at, and pages", async () => {
    const a = await registered(OTHER, "filter-a");
    const b = await registered(OTHER, "filter-b");
    await api.patch(`/api/v1/node_registrations/${b.id}/reject`);
    const ids = async (query: string) => {
      const res = await api.get(`/api/v1/node_registrations?${query}`);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return res.body.data.map((r: { id: string }) => r.id);
    };
    expect(await ids("hostname=filter-*&status=pending")).toEqual([a.id]);
    expect(await ids("hostname=filter-*&status=rejected")).toEqual([b.id]);
    expect(await ids(`cluster_name=${OTHER}&hostname=filter-*`)).toEqual([a.id, b.id]);
    expect(await ids(`cluster_name=${MAIN}&hostname=filter-*`)).toEqual([]);
    expect(
      await ids(
        "hostname=filter-*&inserted_at__gte=2000-01-01T00:00:00Z&inserted_at__lte=2999-01-01T00:00:00Z",
      ),
    ).toEqual([a.id, b.id]);
    expect(await ids("hostname=filter-*&inserted_at__lte=2000-01-01T00:00:00Z")).toEqual([]);
    const page = await api.get("/api/v1/node_registrations?hostname=filter-*&page_size=1&page=2");
    expect(page.body.data.map((r: { id: string }) => r.id)).toEqual([b.id]);
    expect(page.body.meta.pagination).toMatchObject({ total_count: 2 });
    expect((await api.get("/api/v1/node_registrations?status=maybe")).status).toBe(400);
    expect((await api.get(`/api/v1/node_registrations/${crypto.randomUUID()}`)).status).toBe(404);
  });

  it("the fleet summary's pending_approval counts pending registrations", async () => {
    const before = (await api.get(`/api/v1/nodes/summary?cluster_name=${OTHER}`)).body.data.pending_approval;
    const reg = await registered(OTHER);
    expect((await api.get(`/api/v1/nodes/summary?cluster_name=${OTHER}`)).body.data.pending_approval).toBe(
      before + 1,
    );
    await api.patch(`/api/v1/node_registrations/${reg.id}/reject`);
    expect((await api.get(`/api/v1/nodes/summary?cluster_name=${OTHER}`)).body.data.pending_approval).toBe(
      before,
    );
  });
});

describe("cluster-scoped API tokens", () => {
  it("see and decide only their clusters' registrations, and cannot approve into another cluster", async () => {
    const minted = await api.post("/api/v1/api_tokens", {
      name: "reg-scoped",
      scopes: ["node_registrations:read", "node_registrations:write"],
      cluster_names: [OTHER],
    });
    expect(minted.status, JSON.stringify(minted.body)).toBe(201);
    const scoped = as(api, minted.body.data.token);
    const mine = await registered(OTHER, "scope-mine");
    const theirs = await registered(MAIN, "scope-theirs");
    const listed = await scoped.get("/api/v1/node_registrations?hostname=scope-*");
    expect(listed.body.data.map((r: { id: string }) => r.id)).toEqual([mine.id]);
    expect((await scoped.get(`/api/v1/node_registrations/${theirs.id}`)).status).toBe(404);
    expect((await scoped.patch(`/api/v1/node_registrations/${theirs.id}/reject`)).status).toBe(404);
    const elsewhere = await scoped.patch(`/api/v1/node_registrations/${mine.id}/approve`, {
      cluster_name: MAIN,
    });
    expect(elsewhere.status).toBe(422);
    expect((await scoped.patch(`/api/v1/node_registrations/${mine.id}/approve`, {})).status).toBe(200);
  });
});

describe("expiry (cron)", () => {
  it("expires registrations pending for 7 days, with an event; the agent's poll then gets 403", async () => {
    const old = await registered();
    const fresh = await registered();
    await db.run(
      sql`UPDATE node_registrations SET inserted_at = ${Date.now() - 7 * 86_400_000 - 60_000} WHERE id = ${old.id}`,
    );
    const outcome = (await nodeRegistrationsJob.run(api.env, undefined as never)) as { expired: number };
    expect(outcome.expired).toBe(1);
    expect((await api.get(`/api/v1/node_registrations/${old.id}`)).body.data.status).toBe("expired");
    expect((await api.get(`/api/v1/node_registrations/${fresh.id}`)).body.data.status).toBe("pending");
    expect((await poll(old)).status).toBe(403);
    expect((await eventsOf(old.id)).map((e) => e.type)).toEqual([
      "edge.node_registration.requested",
      "edge.node_registration.expired",
    ]);
  });
});
