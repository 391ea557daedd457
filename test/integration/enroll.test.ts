import { sql } from "drizzle-orm";
import * as v from "valibot";
import { beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config";
import { createDatabase } from "../../src/db/client";
import { decodeKeyBlob } from "../../src/enrollment/key-blob";
import { ipv4ToInt, parseCidr } from "../../src/net/cidr";
import { type EnrollRequest, EnrollRequestSchema, EnrollResponseSchema } from "../../src/protocol/enroll";
import { connectAgent } from "./agent-session";
import { createTestApi, type TestApi } from "./harness";

// The connect checks reach the NodeSession Durable Object, so this file shares the root database
// and keeps apart from other files by a unique cluster-name prefix.
let api: TestApi;
let db: ReturnType<typeof createDatabase>;
const P = `en${crypto.randomUUID().slice(0, 6)}`;
const MAIN = `${P}-main`;
const OTHER = `${P}-other`;
const clusters: Record<string, { ipv4_range: string; vpn_domain: string }> = {};

async function makeCluster(name: string, extra: object = {}) {
  const res = await api.post("/api/v1/clusters", { name, ...extra });
  expect(res.status).toBe(201);
  clusters[name] = res.body.data;
  return res.body.data;
}

async function newKey(cluster: string, body: object = {}) {
  const res = await api.post(`/api/v1/clusters/${cluster}/enrollment_keys`, body);
  expect(res.status).toBe(201);
  return { id: res.body.data.id as string, secret: decodeKeyBlob(res.body.data.key)!.key };
}

async function usesRemaining(keyId: string) {
  return (await api.get(`/api/v1/enrollment_keys/${keyId}`)).body.data.uses_remaining;
}

function enrolBody(secret: string, overrides: Record<string, unknown> = {}) {
  return {
    key: secret,
    node_id: crypto.randomUUID(),
    id_type: "random",
    hostname: "host-a",
    platform: "linux",
    arch: "amd64",
    version: "1.2.3",
    ...overrides,
  };
}

async function enrol(json: unknown) {
  const res = await api.fetch("/agent/v1/enroll", { method: "POST", auth: null, json });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers };
}

async function eventsFor(nodeId: string) {
  const rows = await db.all<{ type: string; data: string }>(
    sql`SELECT type, data FROM events WHERE json_extract(data, '$.node_id') = ${nodeId} ORDER BY occurred_at, rowid`,
  );
  return rows.map((r) => ({ type: r.type, data: JSON.parse(r.data) }));
}

function inRange(ip: string, cidr: string) {
  const parsed = parseCidr(cidr, 8, 30);
  if ("error" in parsed) throw new Error(parsed.error);
  const n = ipv4ToInt(ip)!;
  return n > parsed.block.start && n < parsed.block.end;
}

beforeAll(async () => {
  api = await createTestApi({}, { sharedDatabase: true });
  db = createDatabase({ url: api.env.LIBSQL_URL! });
  await makeCluster(MAIN);
  await makeCluster(OTHER);
});

describe("POST /agent/v1/enroll — happy path", () => {
  it("answers what the shared contract promises the agent (src/protocol/enroll.ts)", async () => {
    const { secret } = await newKey(MAIN);
    const body: EnrollRequest = enrolBody(secret, { id_type: "random" }) as EnrollRequest;
    expect(v.safeParse(EnrollRequestSchema, body).success).toBe(true);
    const res = await enrol(body);
    expect(res.status).toBe(201);
    const parsed = v.safeParse(EnrollResponseSchema, res.body);
    expect(parsed.issues).toBeUndefined();
    expect(parsed.output).toMatchObject({ data: { id: body.node_id, cluster_name: MAIN } });
  });

  it("creates the node with every NodeResponse field filled", async () => {
    const { secret } = await newKey(MAIN);
    const nodeId = crypto.randomUUID();
    const res = await enrol(enrolBody(secret, { node_id: nodeId }));
    expect(res.status).toBe(201);
    expect(Object.keys(res.body).sort()).toEqual(["data", "meta"]);
    expect(res.body.meta.request_id).toBe(res.headers.get("x-request-id"));
    expect(res.body.meta.timestamp).toMatch(/^\d{4}-\d\d-\d\dT/);
    const node = res.body.data;
    const ports = loadConfig(api.env).nodePorts;
    const nodeName = `node-${nodeId}`;
    expect(node).toMatchObject({
      id: nodeId,
      id_type: "random",
      cluster_name: MAIN,
      node_name: nodeName,
      vpn_hostname: `${nodeName}.${clusters[MAIN].vpn_domain}`,
      mdns_hostname: `${nodeName}.local`,
      status: "unreachable",
      version: "1.2.3",
      self_update_enabled: true,
      last_seen_at: null,
      ...ports,
    });
    for (const port of [
      "http_port",
      "http_proxy_port",
      "socks5_proxy_port",
      "ssh_port",
      "host_metrics_port",
      "wireguard_metrics_port",
    ]) {
      expect(Number.isInteger(node[port]) && node[port] > 0 && node[port] <= 65535, port).toBe(true);
    }
    expect(node.proxy_password).toEqual(expect.any(String));
    expect(node.proxy_password.length).toBeGreaterThanOrEqual(8);
    expect(node.api_token).toEqual(expect.any(String));
    expect(node.api_token.length).toBeGreaterThanOrEqual(16);
    expect(node.inserted_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(node.updated_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(inRange(node.ipv4_address, clusters[MAIN].ipv4_range)).toBe(true);
    // The stored node matches what the agent was told.
    const stored = (await api.get(`/api/v1/nodes/${nodeId}`)).body.data;
    expect(stored).toEqual(node);
  });

  it("hands out a distinct address inside the range to each node", async () => {
    const { secret } = await newKey(MAIN, { uses_remaining: 3 });
    const ips: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await enrol(enrolBody(secret));
      expect(res.status).toBe(201);
      expect(inRange(res.body.data.ipv4_address, clusters[MAIN].ipv4_range)).toBe(true);
      ips.push(res.body.data.ipv4_address);
    }
    const all = (await api.get(`/api/v1/nodes?cluster_name=${MAIN}&page_size=100`)).body.data.map(
      (n: any) => n.ipv4_address,
    );
    expect(new Set(all).size).toBe(all.length);
    for (const ip of ips) expect(all).toContain(ip);
  });

  it("lower-cases an upper-case node id and spends one key use", async () => {
    const { id, secret } = await newKey(MAIN, { uses_remaining: 2 });
    const nodeId = crypto.randomUUID();
    const res = await enrol(enrolBody(secret, { node_id: nodeId.toUpperCase(), arch: undefined }));
    expect(res.status).toBe(201);
    expect(res.body.data.id).toBe(nodeId);
    expect(await usesRemaining(id)).toBe(1);
  });

  it("writes edge.enrollment_key.verified and edge.node.registered", async () => {
    const { id, secret } = await newKey(MAIN);
    const nodeId = crypto.randomUUID();
    expect((await enrol(enrolBody(secret, { node_id: nodeId, id_type: "persistent" }))).status).toBe(201);
    const events = await eventsFor(nodeId);
    expect(events.map((e) => e.type)).toEqual(["edge.enrollment_key.verified", "edge.node.registered"]);
    expect(events[0].data).toMatchObject({ enrollment_key_id: id, cluster_name: MAIN, node_id: nodeId });
    expect(events[1].data).toMatchObject({
      node_id: nodeId,
      id_type: "persistent",
      cluster_name: MAIN,
      hostname: "host-a",
      version: "1.2.3",
    });
  });

  it("accepts the issued token at /agent/v1/connect", async () => {
    const { secret } = await newKey(MAIN);
    const res = await enrol(enrolBody(secret));
    const agent = await connectAgent(api, res.body.data.api_token);
    agent.ws.close(1000);
  });
});

describe("POST /agent/v1/enroll — key refusals", () => {
  it("answers an unknown key with 401", async () => {
    const res = await enrol(enrolBody("definitely-not-a-key"));
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe("unauthorized");
    expect(res.body.meta.request_id).toEqual(expect.any(String));
  });

  it("answers a spent key with 403", async () => {
    const { id, secret } = await newKey(MAIN, { uses_remaining: 1 });
    expect((await enrol(enrolBody(secret))).status).toBe(201);
    const nodeId = crypto.randomUUID();
    const res = await enrol(enrolBody(secret, { node_id: nodeId }));
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe("forbidden");
    expect(await usesRemaining(id)).toBe(0);
    expect((await api.get(`/api/v1/nodes/${nodeId}`)).status).toBe(404);
  });

  it("answers an expired key with 403 and does not spend it", async () => {
    const { id, secret } = await newKey(MAIN, { uses_remaining: 3 });
    await db.run(sql`UPDATE enrollment_keys SET expired_at = ${Date.now() - 60_000} WHERE id = ${id}`);
    const nodeId = crypto.randomUUID();
    const res = await enrol(enrolBody(secret, { node_id: nodeId }));
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe("forbidden");
    expect(res.body.error.message).toMatch(/expired/i);
    expect(await usesRemaining(id)).toBe(3);
    expect((await api.get(`/api/v1/nodes/${nodeId}`)).status).toBe(404);
    expect(await eventsFor(nodeId)).toEqual([]);
  });
});

describe("POST /agent/v1/enroll — conflicts", () => {
  it("refuses a full cluster with 409 without spending the key", async () => {
    const full = `${P}-full`;
    await makeCluster(full, { node_limit: 1 });
    const first = await newKey(full);
    expect((await enrol(enrolBody(first.secret))).status).toBe(201);
    const { id, secret } = await newKey(full, { uses_remaining: 2 });
    const nodeId = crypto.randomUUID();
    const res = await enrol(enrolBody(secret, { node_id: nodeId }));
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe("conflict");
    expect(await usesRemaining(id)).toBe(2);
    expect((await api.get(`/api/v1/nodes/${nodeId}`)).status).toBe(404);
    expect(await eventsFor(nodeId)).toEqual([]);
    const cluster = (await api.get(`/api/v1/clusters/${full}`)).body.data;
    expect(cluster.node_count).toBe(1);
  });

  it("refuses a known random id with 409 without spending the key", async () => {
    const nodeId = crypto.randomUUID();
    const first = await newKey(MAIN);
    expect((await enrol(enrolBody(first.secret, { node_id: nodeId }))).status).toBe(201);
    const { id, secret } = await newKey(MAIN, { uses_remaining: 5 });
    for (const idType of ["random", "persistent"]) {
      const res = await enrol(enrolBody(secret, { node_id: nodeId, id_type: idType }));
      expect(res.status, idType).toBe(409);
      expect(res.body.error.code).toBe("conflict");
    }
    expect(await usesRemaining(id)).toBe(5);
    expect((await eventsFor(nodeId)).map((e) => e.type)).toEqual([
      "edge.enrollment_key.verified",
      "edge.node.registered",
    ]);
  });

  it("refuses a known persistent id presented as random with 409", async () => {
    const nodeId = crypto.randomUUID();
    const first = await newKey(MAIN);
    expect((await enrol(enrolBody(first.secret, { node_id: nodeId, id_type: "persistent" }))).status).toBe(
      201,
    );
    const { secret } = await newKey(MAIN);
    const res = await enrol(enrolBody(secret, { node_id: nodeId, id_type: "random" }));
    expect(res.status).toBe(409);
  });
});

describe("POST /agent/v1/enroll — concurrency", () => {
  it("never exceeds node_limit under concurrent enrolments and never spends a refused use", async () => {
    const pair = `${P}-pair`;
    await makeCluster(pair, { node_limit: 2 });
    const { id, secret } = await newKey(pair, { uses_remaining: 10 });
    const results = await Promise.all(Array.from({ length: 6 }, () => enrol(enrolBody(secret))));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([201, 201, 409, 409, 409, 409]);
    const ips = results.filter((r) => r.status === 201).map((r) => r.body.data.ipv4_address);
    expect(new Set(ips).size).toBe(2);
    expect(await usesRemaining(id)).toBe(8);
    expect((await api.get(`/api/v1/clusters/${pair}`)).body.data.node_count).toBe(2);
  });

  it("gives concurrent enrolments distinct addresses", async () => {
    const wide = `${P}-wide`;
    await makeCluster(wide);
    const { secret } = await newKey(wide, { uses_remaining: null });
    const results = await Promise.all(Array.from({ length: 8 }, () => enrol(enrolBody(secret))));
    expect(results.map((r) => r.status)).toEqual(Array(8).fill(201));
    const ips = results.map((r) => r.body.data.ipv4_address);
    expect(new Set(ips).size).toBe(8);
    for (const ip of ips) expect(inRange(ip, clusters[wide].ipv4_range)).toBe(true);
  });
});

describe("POST /agent/v1/enroll — re-registering a persistent id with its token", () => {
  it("keeps the node, issues a new token, revokes the old one and emits edge.node.reregistered", async () => {
    const nodeId = crypto.randomUUID();
    const first = await newKey(MAIN);
    const a = await enrol(enrolBody(first.secret, { node_id: nodeId, id_type: "persistent" }));
    expect(a.status).toBe(201);
    const { secret } = await newKey(MAIN);
    const b = await enrol(
      enrolBody(secret, {
        node_id: nodeId,
        id_type: "persistent",
        hostname: "host-b",
        version: "1.3.0",
        api_token: a.body.data.api_token,
      }),
    );
    expect(b.status).toBe(201);
    expect(b.body.data).toMatchObject({
      id: nodeId,
      id_type: "persistent",
      cluster_name: MAIN,
      node_name: a.body.data.node_name,
      ipv4_address: a.body.data.ipv4_address,
      proxy_password: a.body.data.proxy_password,
      inserted_at: a.body.data.inserted_at,
      version: "1.3.0",
    });
    expect(b.body.data.api_token).not.toBe(a.body.data.api_token);
    const count = await api.get(`/api/v1/nodes?cluster_name=${MAIN}&page_size=100`);
    expect(count.body.data.filter((n: any) => n.id === nodeId)).toHaveLength(1);

    const old = await api.fetch("/agent/v1/connect", {
      headers: { upgrade: "websocket", authorization: `Bearer ${a.body.data.api_token}` },
      auth: null,
    });
    expect(old.status).toBe(401);
    expect((await old.json<any>()).error.code).toBe("unauthorized");
    const agent = await connectAgent(api, b.body.data.api_token);
    agent.ws.close(1000);

    const events = await eventsFor(nodeId);
    expect(events.map((e) => e.type)).toEqual([
      "edge.enrollment_key.verified",
      "edge.node.registered",
      "edge.enrollment_key.verified",
      "edge.node.reregistered",
    ]);
    expect(events[3].data).toMatchObject({
      node_id: nodeId,
      id_type: "persistent",
      cluster_name: MAIN,
      hostname: "host-b",
      version: "1.3.0",
    });
  });

  it("re-registers into a full cluster it already belongs to", async () => {
    const solo = `${P}-solo`;
    await makeCluster(solo, { node_limit: 1 });
    const nodeId = crypto.randomUUID();
    const first = await newKey(solo);
    const a = await enrol(enrolBody(first.secret, { node_id: nodeId, id_type: "persistent" }));
    expect(a.status).toBe(201);
    const { secret } = await newKey(solo);
    const b = await enrol(
      enrolBody(secret, { node_id: nodeId, id_type: "persistent", api_token: a.body.data.api_token }),
    );
    expect(b.status).toBe(201);
    expect(b.body.data.ipv4_address).toBe(a.body.data.ipv4_address);
  });
}); /* takeover refusals: test/integration/enroll-takeover.test.ts */

describe("POST /agent/v1/enroll — body validation", () => {
  let secret: string;
  let keyId: string;
  beforeAll(async () => {
    ({ id: keyId, secret } = await newKey(MAIN, { uses_remaining: 3 }));
  });

  const cases: [string, Record<string, unknown>, string][] = [
    ["a malformed node_id", { node_id: "not-a-uuid" }, "node_id"],
    ["a numeric node_id", { node_id: 12 }, "node_id"],
    ["an unknown id_type", { id_type: "sticky" }, "id_type"],
    ["an empty key", { key: "" }, "key"],
    ["a numeric key", { key: 5 }, "key"],
    ["an over-long key", { key: "k".repeat(513) }, "key"],
    ["an empty hostname", { hostname: "" }, "hostname"],
    ["an over-long hostname", { hostname: "h".repeat(256) }, "hostname"],
    ["an empty version", { version: "" }, "version"],
    ["an over-long platform", { platform: "p".repeat(65) }, "platform"],
    ["an over-long arch", { arch: "a".repeat(33) }, "arch"],
    ["an extra field", { extra: true }, "extra"],
  ];
  it.each(cases)("rejects %s with 422 naming the field", async (_label, overrides, field) => {
    const res = await enrol(enrolBody(secret, overrides));
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe("validation_failed");
    expect(Object.keys(res.body.error.details)).toContain(field);
  });

  it.each(["key", "node_id", "id_type", "hostname", "platform", "version"])(
    "rejects a body missing %s with 422",
    async (field) => {
      const body: Record<string, unknown> = enrolBody(secret);
      delete body[field];
      const res = await enrol(body);
      expect(res.status).toBe(422);
      expect(Object.keys(res.body.error.details)).toContain(field);
    },
  );

  it("never spends the key on an invalid body", async () => {
    expect(await usesRemaining(keyId)).toBe(3);
  });

  it("answers malformed JSON with 400 and a wrong content type with 415", async () => {
    const bad = await api.fetch("/agent/v1/enroll", {
      method: "POST",
      auth: null,
      body: "{nope",
      headers: { "content-type": "application/json" },
    });
    expect(bad.status).toBe(400);
    expect((await bad.json<any>()).error.code).toBe("bad_request");
    const text = await api.fetch("/agent/v1/enroll", {
      method: "POST",
      auth: null,
      body: JSON.stringify(enrolBody(secret)),
      headers: { "content-type": "text/plain" },
    });
    expect(text.status).toBe(415);
  });
});
