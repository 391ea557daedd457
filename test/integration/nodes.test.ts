import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { createDatabase } from "../../src/db/client";
import { ipv4ToInt, parseCidr } from "../../src/net/cidr";
import { CLOSE_CODES } from "../../src/protocol/frames";
import { connectAgent, enrolNode } from "./agent-session";
import { createTestApi, eventually, type TestApi } from "./harness";

// Deletion, cluster changes and metrics reach the NodeSession Durable Object, which reads the
// root database: this file shares it and keeps apart from other files by a unique name prefix.
let api: TestApi;
let db: ReturnType<typeof createDatabase>;
const P = `nd${crypto.randomUUID().slice(0, 6)}`;
const clusters: Record<string, { ipv4_range: string; vpn_domain: string }> = {};

const NODE_FIELDS = [
  "api_token",
  "cluster_name",
  "host_metrics_port",
  "http_port",
  "http_proxy_port",
  "id",
  "id_type",
  "inserted_at",
  "ipv4_address",
  "last_seen_at",
  "mdns_hostname",
  "netmaker_host_id",
  "node_name",
  "proxy_password",
  "self_update_enabled",
  "socks5_proxy_port",
  "ssh_port",
  "status",
  "updated_at",
  "version",
  "vpn_hostname",
  "wireguard_metrics_port",
];

async function makeCluster(name: string, extra: object = {}) {
  const res = await api.post("/api/v1/clusters", { name, ...extra });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  clusters[name] = res.body.data;
  return res.body.data;
}

function inRange(ip: string, cidr: string) {
  const parsed = parseCidr(cidr, 8, 30);
  if ("error" in parsed) throw new Error(parsed.error);
  const n = ipv4ToInt(ip)!;
  return n > parsed.block.start && n < parsed.block.end;
}

async function eventsFor(nodeId: string, type: string) {
  const rows = await db.all<{ data: string }>(
    sql`SELECT data FROM events WHERE type = ${type} AND json_extract(data, '$.node_id') = ${nodeId} ORDER BY occurred_at, rowid`,
  );
  return rows.map((r) => JSON.parse(r.data));
}

beforeAll(async () => {
  api = await createTestApi({}, { sharedDatabase: true });
  db = createDatabase({ url: api.env.LIBSQL_URL! });
});

describe("GET /api/v1/nodes", () => {
  const LA = `${P}-la`;
  const LB = `${P}-lb`;
  const SCOPE = `cluster_name=${P}-l*`;
  const n: Record<string, string> = {};
  const label: Record<string, string> = {};

  beforeAll(async () => {
    await makeCluster(LA);
    await makeCluster(LB);
    const plan = [
      // label, cluster, id_type, status, version, self_update, inserted, updated, last_seen
      [
        "n1",
        LA,
        "random",
        "healthy",
        "1.0.0",
        1,
        "2025-01-01T10:00:00Z",
        "2025-01-05T10:00:00Z",
        "2025-02-01T12:00:00Z",
      ],
      ["n2", LA, "persistent", "unhealthy", "1.1.0", 0, "2025-01-02T10:00:00Z", "2025-01-06T10:00:00Z", null],
      [
        "n3",
        LA,
        "random",
        "unreachable",
        "2.0.0",
        1,
        "2025-01-03T10:00:00Z",
        "2025-01-07T10:00:00Z",
        "2025-02-03T00:00:00Z",
      ],
      [
        "n4",
        LB,
        "persistent",
        "healthy",
        "2.0.1-beta",
        0,
        "2025-01-04T10:00:00Z",
        "2025-01-08T10:00:00Z",
        "2025-02-04T23:59:59Z",
      ],
    ] as const;
    for (const [name, cluster, idType, status, version, selfUpdate, ins, upd, seen] of plan) {
      const { nodeId } = await enrolNode(api, cluster, crypto.randomUUID(), idType);
      n[name] = nodeId;
      label[nodeId] = name;
      await db.run(sql`UPDATE nodes SET status = ${status}, version = ${version},
        self_update_enabled = ${selfUpdate}, inserted_at = ${Date.parse(ins)}, updated_at = ${Date.parse(upd)},
        last_seen_at = ${seen === null ? null : Date.parse(seen)} WHERE id = ${nodeId}`);
    }
  });

  async function labels(query: string) {
    const res = await api.get(`/api/v1/nodes?${SCOPE}&${query}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body.data.map((node: any) => label[node.id]);
  }

  it("lists nodes in the envelope with the seed's pagination block and default inserted_at order", async () => {
    const res = await api.get(`/api/v1/nodes?${SCOPE}`);
    expect(res.status).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(["data", "meta"]);
    expect(res.body.meta.request_id).toBe(res.headers.get("x-request-id"));
    expect(res.body.meta.pagination).toEqual({
      has_next: false,
      has_prev: false,
      next_page: null,
      page: 1,
      page_size: 20,
      prev_page: null,
      total_count: 4,
      total_pages: 1,
    });
    expect(res.body.data.map((x: any) => label[x.id])).toEqual(["n1", "n2", "n3", "n4"]);
    const first = res.body.data[0];
    expect(Object.keys(first).sort()).toEqual(NODE_FIELDS);
    expect(first).toMatchObject({
      id: n.n1,
      cluster_name: LA,
      id_type: "random",
      status: "healthy",
      version: "1.0.0",
      self_update_enabled: true,
      inserted_at: "2025-01-01T10:00:00Z",
      updated_at: "2025-01-05T10:00:00Z",
      last_seen_at: "2025-02-01T12:00:00Z",
      node_name: `node-${n.n1}`,
      vpn_hostname: `node-${n.n1}.${clusters[LA].vpn_domain}`,
    });
    expect(res.body.data[1].last_seen_at).toBeNull();
  });

  it("requires the API key", async () => {
    expect((await api.fetch("/api/v1/nodes", { auth: null })).status).toBe(401);
    expect((await api.fetch("/api/v1/nodes", { auth: "wrong" })).status).toBe(401);
  });

  it("filters by cluster_name exactly or by wildcard", async () => {
    const get = async (q: string) =>
      (await api.get(`/api/v1/nodes?${q}`)).body.data.map((x: any) => label[x.id] ?? x.id);
    expect(await get(`cluster_name=${LA}`)).toEqual(["n1", "n2", "n3"]);
    expect(await get(`cluster_name=${LB}`)).toEqual(["n4"]);
    expect(await get(`cluster_name=*${P.slice(2)}-lb`)).toEqual(["n4"]);
    expect(await get(`cluster_name=${P}-l*`)).toEqual(["n1", "n2", "n3", "n4"]);
    expect(await get(`cluster_name=${P}-l`)).toEqual([]);
  });

  it("filters by id_type, status and self_update_enabled", async () => {
    expect(await labels("id_type=persistent")).toEqual(["n2", "n4"]);
    expect(await labels("id_type=random")).toEqual(["n1", "n3"]);
    expect(await labels("status=healthy")).toEqual(["n1", "n4"]);
    expect(await labels("status=unhealthy")).toEqual(["n2"]);
    expect(await labels("status=unreachable")).toEqual(["n3"]);
    expect(await labels("self_update_enabled=true")).toEqual(["n1", "n3"]);
    expect(await labels("self_update_enabled=false")).toEqual(["n2", "n4"]);
    expect(await labels("status=healthy&id_type=persistent")).toEqual(["n4"]);
  });

  it("filters by version exactly or by wildcard", async () => {
    expect(await labels("version=2.0.0")).toEqual(["n3"]);
    expect(await labels("version=1.*")).toEqual(["n1", "n2"]);
    expect(await labels("version=2.0.*")).toEqual(["n3", "n4"]);
    expect(await labels("version=*-beta")).toEqual(["n4"]);
    expect(await labels("version=2")).toEqual([]);
  });

  it("filters by inserted_at, updated_at and last_seen_at ranges, date-only bounds covering whole days", async () => {
    expect(await labels("inserted_at__gte=2025-01-02&inserted_at__lte=2025-01-03")).toEqual(["n2", "n3"]);
    expect(await labels("inserted_at__lte=2025-01-01T10:00:00Z")).toEqual(["n1"]);
    expect(await labels("inserted_at__lte=2025-01-01T09:59:59Z")).toEqual([]);
    expect(await labels("inserted_at__gte=2025-01-03T11:00:00%2B01:00")).toEqual(["n3", "n4"]);
    expect(await labels("updated_at__gte=2025-01-07")).toEqual(["n3", "n4"]);
    expect(await labels("updated_at__lte=2025-01-05")).toEqual(["n1"]);
    expect(await labels("last_seen_at__gte=2025-02-03")).toEqual(["n3", "n4"]);
    expect(await labels("last_seen_at__lte=2025-02-04")).toEqual(["n1", "n3", "n4"]);
    expect(await labels("last_seen_at__lte=2025-02-01")).toEqual(["n1"]);
    expect(
      await labels("last_seen_at__gte=2025-02-04T23:59:59Z&last_seen_at__lte=2025-02-04T23:59:59Z"),
    ).toEqual(["n4"]);
  });

  it("sorts by several fields and directions", async () => {
    expect(await labels("order_by=inserted_at&order_directions=desc")).toEqual(["n4", "n3", "n2", "n1"]);
    expect(await labels("order_by=updated_at")).toEqual(["n1", "n2", "n3", "n4"]);
    expect(await labels("order_by=version&order_directions=desc")).toEqual(["n4", "n3", "n2", "n1"]);
    expect(await labels("order_by=status,inserted_at&order_directions=asc,desc")).toEqual([
      "n4",
      "n1",
      "n2",
      "n3",
    ]);
    expect(await labels("order_by=cluster_name,version&order_directions=desc,desc")).toEqual([
      "n4",
      "n3",
      "n2",
      "n1",
    ]);
    expect(await labels("order_by=id_type,inserted_at&order_directions=desc,asc")).toEqual([
      "n1",
      "n3",
      "n2",
      "n4",
    ]);
  });

  it("sorts by last_seen_at and node_name", async () => {
    const seen = (await labels("order_by=last_seen_at&order_directions=desc")).filter(
      (l: string) => l !== "n2",
    );
    expect(seen).toEqual(["n4", "n3", "n1"]);
    const byName = Object.entries(n)
      .sort(([, a], [, b]) => (a < b ? -1 : 1))
      .map(([l]) => l);
    expect(await labels("order_by=node_name")).toEqual(byName);
    expect(await labels("order_by=node_name&order_directions=DESC")).toEqual([...byName].reverse());
  });

  it("paginates", async () => {
    const first = await api.get(`/api/v1/nodes?${SCOPE}&page_size=3`);
    expect(first.body.data.map((x: any) => label[x.id])).toEqual(["n1", "n2", "n3"]);
    expect(first.body.meta.pagination).toEqual({
      has_next: true,
      has_prev: false,
      next_page: 2,
      page: 1,
      page_size: 3,
      prev_page: null,
      total_count: 4,
      total_pages: 2,
    });
    const second = await api.get(`/api/v1/nodes?${SCOPE}&page_size=3&page=2`);
    expect(second.body.data.map((x: any) => label[x.id])).toEqual(["n4"]);
    expect(second.body.meta.pagination).toMatchObject({
      has_next: false,
      has_prev: true,
      next_page: null,
      prev_page: 1,
      page: 2,
    });
    const beyond = await api.get(`/api/v1/nodes?${SCOPE}&page=9`);
    expect(beyond.status).toBe(200);
    expect(beyond.body.data).toEqual([]);
    expect(beyond.body.meta.pagination.total_count).toBe(4);
    const none = await api.get(`/api/v1/nodes?cluster_name=${P}-nothing`);
    expect(none.body.meta.pagination).toMatchObject({ total_count: 0, total_pages: 0, has_next: false });
  });

  it.each([
    ["status=dead", "status"],
    ["status=HEALTHY", "status"],
    ["id_type=sticky", "id_type"],
    ["self_update_enabled=maybe", "self_update_enabled"],
    ["self_update_enabled=", "self_update_enabled"],
    ["cluster_name=", "cluster_name"],
    ["version=", "version"],
    ["inserted_at__gte=yesterday", "inserted_at__gte"],
    ["inserted_at__lte=2025-13-01", "inserted_at__lte"],
    ["updated_at__gte=2025-02-30", "updated_at__gte"],
    ["updated_at__lte=2025-01-01T10:00:00", "updated_at__lte"],
    ["last_seen_at__gte=1700000000", "last_seen_at__gte"],
    ["last_seen_at__lte=not-a-date", "last_seen_at__lte"],
    ["order_by=hostname", "order_by"],
    ["order_by=ID_TYPE", "order_by"],
    ["order_directions=up", "order_directions"],
    ["order_by=status&order_directions=asc,desc", "order_directions"],
    ["page=0", "page"],
    ["page=-1", "page"],
    ["page_size=0", "page_size"],
    ["page_size=101", "page_size"],
    ["page_size=ten", "page_size"],
    ["hostname=host-a", "hostname"],
    ["status=healthy&status=unhealthy", "status"],
  ])("rejects ?%s with 400 naming %s", async (query, field) => {
    const res = await api.get(`/api/v1/nodes?${query}`);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("bad_request");
    expect(Object.keys(res.body.error.details)).toContain(field);
    expect(res.body.meta.request_id).toEqual(expect.any(String));
  });
});

describe("GET /api/v1/nodes — boolean filter values", () => {
  // BUG (src/list-query/filters.ts, booleanFilter): `raw in BOOL_VALUES` also accepts names
  // inherited from Object.prototype ("toString", "constructor", "__proto__", …), so these are
  // treated as a (truthy) value instead of being rejected with 400.
  it("rejects self_update_enabled values that are Object.prototype member names with 400", async () => {
    const statuses: Record<string, number> = {};
    for (const value of ["toString", "constructor", "hasOwnProperty", "valueOf"]) {
      statuses[value] = (await api.get(`/api/v1/nodes?self_update_enabled=${value}`)).status;
    }
    expect(statuses).toEqual({ toString: 400, constructor: 400, hasOwnProperty: 400, valueOf: 400 });
  });
});

describe("GET and PATCH /api/v1/nodes/{id}", () => {
  const C = `${P}-gp`;
  let nodeId: string;
  let enrolled: any;

  beforeAll(async () => {
    await makeCluster(C);
    ({ nodeId, node: enrolled } = await enrolNode(api, C));
  });

  it("reads a node in the single envelope", async () => {
    const res = await api.get(`/api/v1/nodes/${nodeId}`);
    expect(res.status).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(["data", "meta"]);
    expect(Object.keys(res.body.meta).sort()).toEqual(["request_id", "timestamp"]);
    expect(res.body.meta.request_id).toBe(res.headers.get("x-request-id"));
    expect(Object.keys(res.body.data).sort()).toEqual(NODE_FIELDS);
    expect(res.body.data).toEqual(enrolled);
    expect((await api.get(`/api/v1/nodes/${nodeId.toUpperCase()}`)).body.data.id).toBe(nodeId);
  });

  it("answers unknown ids with 404, malformed ids and stray query strings with 400, no key with 401", async () => {
    const missing = await api.get(`/api/v1/nodes/${crypto.randomUUID()}`);
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe("not_found");
    expect(missing.body.meta.request_id).toEqual(expect.any(String));
    for (const bad of ["not-a-uuid", "123", `${nodeId}x`]) {
      const res = await api.get(`/api/v1/nodes/${bad}`);
      expect(res.status, bad).toBe(400);
      expect(res.body.error.code).toBe("bad_request");
      expect(Object.keys(res.body.error.details)).toContain("id");
    }
    const q = await api.get(`/api/v1/nodes/${nodeId}?verbose=1`);
    expect(q.status).toBe(400);
    expect(Object.keys(q.body.error.details)).toContain("verbose");
    expect((await api.fetch(`/api/v1/nodes/${nodeId}`, { auth: null })).status).toBe(401);
  });

  it("toggles self_update_enabled", async () => {
    const off = await api.patch(`/api/v1/nodes/${nodeId}`, { self_update_enabled: false });
    expect(off.status).toBe(200);
    expect(Object.keys(off.body).sort()).toEqual(["data", "meta"]);
    expect(off.body.data.self_update_enabled).toBe(false);
    expect(off.body.data.id).toBe(nodeId);
    expect(Date.parse(off.body.data.updated_at)).toBeGreaterThanOrEqual(Date.parse(enrolled.updated_at));
    expect((await api.get(`/api/v1/nodes/${nodeId}`)).body.data.self_update_enabled).toBe(false);
    const on = await api.patch(`/api/v1/nodes/${nodeId}`, { self_update_enabled: true });
    expect(on.body.data.self_update_enabled).toBe(true);
  });

  it("accepts an empty body and changes nothing", async () => {
    const before = (await api.get(`/api/v1/nodes/${nodeId}`)).body.data;
    const res = await api.patch(`/api/v1/nodes/${nodeId}`, {});
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual(before);
  });

  it.each([
    [{ self_update_enabled: "yes" }, "self_update_enabled"],
    [{ self_update_enabled: 1 }, "self_update_enabled"],
    [{ self_update_enabled: null }, "self_update_enabled"],
    [{ extra: true }, "extra"],
    [{ status: "healthy" }, "status"],
    [{ cluster_name: "elsewhere" }, "cluster_name"],
  ])("rejects %j with 422 naming %s", async (body, field) => {
    const res = await api.patch(`/api/v1/nodes/${nodeId}`, body);
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe("validation_failed");
    expect(Object.keys(res.body.error.details)).toContain(field);
  });

  it("answers PATCH on unknown ids with 404 and malformed ids with 400", async () => {
    const missing = await api.patch(`/api/v1/nodes/${crypto.randomUUID()}`, { self_update_enabled: false });
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe("not_found");
    const bad = await api.patch("/api/v1/nodes/nope", { self_update_enabled: false });
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.body.error.details)).toContain("id");
  });
});

describe("DELETE /api/v1/nodes/{id}", () => {
  const C = `${P}-del`;
  beforeAll(async () => {
    await makeCluster(C);
  });

  it("deletes the node and its aliases and closes its agent with 4002", async () => {
    const { nodeId, token } = await enrolNode(api, C);
    const keeper = await enrolNode(api, C);
    const aliasIds: string[] = [];
    for (const name of ["doomed-a", "doomed-b"]) {
      const res = await api.post(`/api/v1/nodes/${nodeId}/aliases`, { name });
      expect(res.status).toBe(201);
      aliasIds.push(res.body.data.id);
    }
    const kept = (await api.post(`/api/v1/nodes/${keeper.nodeId}/aliases`, { name: "kept" })).body.data;
    const agent = await connectAgent(api, token);
    agent.hello();
    await agent.next("config");

    const res = await api.fetch(`/api/v1/nodes/${nodeId}`, { method: "DELETE" });
    expect(res.status).toBe(204);
    expect(await res.text()).toBe("");
    expect((await agent.waitClosed()).code).toBe(CLOSE_CODES.nodeDeleted);

    const gone = await api.get(`/api/v1/nodes/${nodeId}`);
    expect(gone.status).toBe(404);
    expect(gone.body.error.code).toBe("not_found");
    for (const id of aliasIds) expect((await api.get(`/api/v1/aliases/${id}`)).status).toBe(404);
    expect((await api.get(`/api/v1/aliases?node_id=${nodeId}`)).body.data).toEqual([]);
    expect((await api.get(`/api/v1/aliases/${kept.id}`)).status).toBe(200);
    expect((await api.get(`/api/v1/nodes/${keeper.nodeId}`)).status).toBe(200);
    expect((await api.del(`/api/v1/nodes/${nodeId}`)).status).toBe(404);
    // The alias names are free again in the cluster.
    expect((await api.post(`/api/v1/nodes/${keeper.nodeId}/aliases`, { name: "doomed-a" })).status).toBe(201);
  });

  it("deletes a node that never connected", async () => {
    const { nodeId } = await enrolNode(api, C);
    expect((await api.del(`/api/v1/nodes/${nodeId}`)).status).toBe(204);
    expect((await api.get(`/api/v1/nodes/${nodeId}`)).status).toBe(404);
  });

  it("answers unknown ids with 404, malformed ids with 400, no key with 401", async () => {
    const missing = await api.del(`/api/v1/nodes/${crypto.randomUUID()}`);
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe("not_found");
    const bad = await api.del("/api/v1/nodes/not-a-uuid");
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.body.error.details)).toContain("id");
    const anon = await api.fetch(`/api/v1/nodes/${crypto.randomUUID()}`, { method: "DELETE", auth: null });
    expect(anon.status).toBe(401);
  });
});

describe("PATCH /api/v1/nodes/{id}/change_cluster", () => {
  const SRC = `${P}-src`;
  const DST = `${P}-dst`;
  const ONE = `${P}-one`;

  beforeAll(async () => {
    await makeCluster(SRC);
    await makeCluster(DST);
    await makeCluster(ONE, { node_limit: 1 });
    await enrolNode(api, ONE);
  });

  it("moves the node, its address, hostname and aliases, tells its agent and records the event", async () => {
    const { nodeId, token, node: before } = await enrolNode(api, SRC);
    const alias = (await api.post(`/api/v1/nodes/${nodeId}/aliases`, { name: "mover" })).body.data;
    const agent = await connectAgent(api, token);
    agent.hello();
    expect((await agent.next("config")).cluster_name).toBe(SRC);

    const res = await api.patch(`/api/v1/nodes/${nodeId}/change_cluster`, { cluster_name: DST });
    expect(res.status).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(["data", "meta"]);
    expect(Object.keys(res.body.data).sort()).toEqual(NODE_FIELDS);
    const moved = res.body.data;
    expect(moved).toMatchObject({
      id: nodeId,
      cluster_name: DST,
      node_name: before.node_name,
      api_token: before.api_token,
      vpn_hostname: `node-${nodeId}.${clusters[DST].vpn_domain}`,
    });
    expect(inRange(moved.ipv4_address, clusters[DST].ipv4_range)).toBe(true);
    expect(inRange(moved.ipv4_address, clusters[SRC].ipv4_range)).toBe(false);
    expect((await api.get(`/api/v1/nodes/${nodeId}`)).body.data).toMatchObject({
      cluster_name: DST,
      ipv4_address: moved.ipv4_address,
    });

    const config = await agent.until(
      () => agent.frames.find((f: any) => f.type === "config" && f.cluster_name === DST) as any,
      "a config frame for the new cluster",
    );
    expect(config).toMatchObject({ node_id: nodeId, cluster_name: DST });

    expect(await eventsFor(nodeId, "edge.node.cluster_changed")).toEqual([
      expect.objectContaining({ node_id: nodeId, from: SRC, to: DST }),
    ]);
    const movedAlias = (await api.get(`/api/v1/aliases/${alias.id}`)).body.data;
    expect(movedAlias).toMatchObject({
      cluster_name: DST,
      vpn_hostname: `mover.${clusters[DST].vpn_domain}`,
    });
    const counts = Object.fromEntries(
      await Promise.all(
        [SRC, DST].map(async (c) => [c, (await api.get(`/api/v1/clusters/${c}`)).body.data.node_count]),
      ),
    );
    expect(counts[DST]).toBeGreaterThanOrEqual(1);
    agent.ws.close(1000);
  });

  it("moves a node whose agent is offline", async () => {
    const { nodeId } = await enrolNode(api, SRC);
    const res = await api.patch(`/api/v1/nodes/${nodeId}/change_cluster`, { cluster_name: DST });
    expect(res.status).toBe(200);
    expect(res.body.data.cluster_name).toBe(DST);
  });

  it("refuses with 409 when an alias name clashes in the target, changing nothing", async () => {
    const { nodeId, node: before } = await enrolNode(api, SRC);
    const other = await enrolNode(api, DST);
    const mine = (await api.post(`/api/v1/nodes/${nodeId}/aliases`, { name: "clash" })).body.data;
    expect((await api.post(`/api/v1/nodes/${other.nodeId}/aliases`, { name: "clash" })).status).toBe(201);
    const res = await api.patch(`/api/v1/nodes/${nodeId}/change_cluster`, { cluster_name: DST });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe("conflict");
    const after = (await api.get(`/api/v1/nodes/${nodeId}`)).body.data;
    expect(after).toMatchObject({
      cluster_name: SRC,
      ipv4_address: before.ipv4_address,
      vpn_hostname: before.vpn_hostname,
      updated_at: before.updated_at,
    });
    expect((await api.get(`/api/v1/aliases/${mine.id}`)).body.data).toEqual(mine);
    expect(await eventsFor(nodeId, "edge.node.cluster_changed")).toEqual([]);
  });

  it("refuses with 409 when the target is at its node_limit", async () => {
    const { nodeId } = await enrolNode(api, SRC);
    const res = await api.patch(`/api/v1/nodes/${nodeId}/change_cluster`, { cluster_name: ONE });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe("conflict");
    expect((await api.get(`/api/v1/nodes/${nodeId}`)).body.data.cluster_name).toBe(SRC);
    expect((await api.get(`/api/v1/clusters/${ONE}`)).body.data.node_count).toBe(1);
  });

  it("answers an unknown target or node with 404 and the same cluster with 422", async () => {
    const { nodeId } = await enrolNode(api, SRC);
    const unknown = await api.patch(`/api/v1/nodes/${nodeId}/change_cluster`, {
      cluster_name: `${P}-nowhere`,
    });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe("not_found");
    const missing = await api.patch(`/api/v1/nodes/${crypto.randomUUID()}/change_cluster`, {
      cluster_name: DST,
    });
    expect(missing.status).toBe(404);
    const same = await api.patch(`/api/v1/nodes/${nodeId}/change_cluster`, { cluster_name: SRC });
    expect(same.status).toBe(422);
    expect(same.body.error.code).toBe("validation_failed");
    expect(Object.keys(same.body.error.details)).toContain("cluster_name");
  });

  it.each([
    [{}, "cluster_name"],
    [{ cluster_name: "" }, "cluster_name"],
    [{ cluster_name: "Bad_Name" }, "cluster_name"],
    [{ cluster_name: "-lead" }, "cluster_name"],
    [{ cluster_name: "a".repeat(25) }, "cluster_name"],
    [{ cluster_name: 5 }, "cluster_name"],
    [{ cluster_name: null }, "cluster_name"],
    [{ cluster_name: "ok", extra: 1 }, "extra"],
  ])("rejects %j with 422 naming %s", async (body, field) => {
    const res = await api.patch(`/api/v1/nodes/${crypto.randomUUID()}/change_cluster`, body);
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe("validation_failed");
    expect(Object.keys(res.body.error.details)).toContain(field);
  });

  it("answers a malformed node id with 400", async () => {
    const res = await api.patch("/api/v1/nodes/nope/change_cluster", { cluster_name: DST });
    expect(res.status).toBe(400);
    expect(Object.keys(res.body.error.details)).toContain("id");
  });
});

describe("node metrics", () => {
  const C = `${P}-met`;
  const paths = ["metrics", "metrics/host", "metrics/agent"];
  beforeAll(async () => {
    await makeCluster(C);
  });

  it("answers 503 service_unavailable for a node that never reported", async () => {
    const { nodeId } = await enrolNode(api, C);
    for (const p of paths) {
      const res = await api.get(`/api/v1/nodes/${nodeId}/${p}`);
      expect(res.status, p).toBe(503);
      expect(res.body.error.code).toBe("service_unavailable");
      expect(res.body.meta.request_id).toEqual(expect.any(String));
    }
  });

  it("answers 404 for an unknown node and 400 for a malformed id", async () => {
    for (const p of paths) {
      const missing = await api.get(`/api/v1/nodes/${crypto.randomUUID()}/${p}`);
      expect(missing.status, p).toBe(404);
      expect(missing.body.error.code).toBe("not_found");
      const bad = await api.get(`/api/v1/nodes/nope/${p}`);
      expect(bad.status, p).toBe(400);
      expect(Object.keys(bad.body.error.details)).toContain("node_id");
    }
  });

  it("serves metrics once the node has sent a heartbeat", async () => {
    const { nodeId, token } = await enrolNode(api, C);
    const agent = await connectAgent(api, token);
    agent.hello();
    await agent.next("config");
    agent.heartbeat();
    await eventually(async () => {
      const res = await api.get(`/api/v1/nodes/${nodeId}/metrics`);
      expect(res.status).toBe(200);
      expect(res.body.data).toMatchObject({ node_id: nodeId, cluster_name: C });
    });
    agent.ws.close(1000);
  });
});
