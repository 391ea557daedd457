import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { createDatabase } from "../../src/db/client";
import { enrolNode } from "./agent-session";
import { createTestApi, type TestApi } from "./harness";

// No Durable Object is involved here, so this file gets a database namespace of its own.
let api: TestApi;
let db: ReturnType<typeof createDatabase>;
const vpnDomain: Record<string, string> = {};
let nodeA1: string; // in "alpha"
let nodeA2: string; // in "alpha"
let nodeB1: string; // in "beta-prod"

async function makeCluster(name: string) {
  const res = await api.post("/api/v1/clusters", { name });
  expect(res.status).toBe(201);
  vpnDomain[name] = res.body.data.vpn_domain;
}

async function createAlias(nodeId: string, name: string) {
  return api.post(`/api/v1/nodes/${nodeId}/aliases`, { name });
}

beforeAll(async () => {
  api = await createTestApi();
  db = createDatabase({ url: api.env.LIBSQL_URL! });
  await makeCluster("alpha");
  await makeCluster("beta-prod");
  await makeCluster("gamma");
  nodeA1 = (await enrolNode(api, "alpha")).nodeId;
  nodeA2 = (await enrolNode(api, "alpha")).nodeId;
  nodeB1 = (await enrolNode(api, "beta-prod")).nodeId;
});

describe("POST /api/v1/nodes/{node_id}/aliases", () => {
  it("creates an alias resolving under the cluster's vpn_domain", async () => {
    const res = await createAlias(nodeA1, "web-server");
    expect(res.status).toBe(201);
    expect(Object.keys(res.body).sort()).toEqual(["data", "meta"]);
    expect(res.body.meta.request_id).toBe(res.headers.get("x-request-id"));
    expect(Object.keys(res.body.data).sort()).toEqual([
      "cluster_name",
      "id",
      "inserted_at",
      "name",
      "node_id",
      "updated_at",
      "vpn_hostname",
    ]);
    expect(res.body.data).toMatchObject({
      cluster_name: "alpha",
      name: "web-server",
      node_id: nodeA1,
      vpn_hostname: `web-server.${vpnDomain.alpha}`,
    });
    expect(res.body.data.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(res.body.data.inserted_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(res.body.data.updated_at).toBe(res.body.data.inserted_at);
  });

  it.each(["a", "0", "a-b-1", "x".repeat(63), "9lives"])("accepts the name %s", async (name) => {
    const res = await createAlias(nodeB1, name);
    expect(res.status).toBe(201);
    expect(res.body.data.name).toBe(name);
  });

  it("accepts an upper-case node id", async () => {
    const res = await createAlias(nodeA2.toUpperCase(), "upper-path");
    expect(res.status).toBe(201);
    expect(res.body.data.node_id).toBe(nodeA2);
  });

  it("lets one node carry several aliases", async () => {
    expect((await createAlias(nodeA1, "api")).status).toBe(201);
    expect((await createAlias(nodeA1, "db")).status).toBe(201);
  });

  it("refuses a name already used in the same cluster with 409, even on another node", async () => {
    expect((await createAlias(nodeA1, "shared")).status).toBe(201);
    for (const node of [nodeA1, nodeA2]) {
      const res = await createAlias(node, "shared");
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe("conflict");
      expect(Object.keys(res.body.error.details)).toContain("name");
    }
  });

  it("allows the same name in another cluster", async () => {
    const res = await createAlias(nodeB1, "shared");
    expect(res.status).toBe(201);
    expect(res.body.data).toMatchObject({
      cluster_name: "beta-prod",
      vpn_hostname: `shared.${vpnDomain["beta-prod"]}`,
    });
  });

  it.each([
    [{}, "name"],
    [{ name: "" }, "name"],
    [{ name: "x".repeat(64) }, "name"],
    [{ name: "Web" }, "name"],
    [{ name: "-lead" }, "name"],
    [{ name: "trail-" }, "name"],
    [{ name: "-" }, "name"],
    [{ name: "under_score" }, "name"],
    [{ name: "dot.ted" }, "name"],
    [{ name: "spa ce" }, "name"],
    [{ name: 7 }, "name"],
    [{ name: null }, "name"],
    [{ name: "ok", extra: 1 }, "extra"],
  ])("rejects %j with 422 naming %s", async (body, field) => {
    const res = await api.post(`/api/v1/nodes/${nodeA2}/aliases`, body);
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe("validation_failed");
    expect(Object.keys(res.body.error.details)).toContain(field);
    expect(res.body.meta.request_id).toEqual(expect.any(String));
  });

  it("answers an unknown node with 404 and a malformed node id with 400", async () => {
    const missing = await createAlias(crypto.randomUUID(), "orphan");
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe("not_found");
    const bad = await createAlias("not-a-uuid", "orphan");
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe("bad_request");
    expect(Object.keys(bad.body.error.details)).toContain("node_id");
  });

  it("answers malformed JSON with 400, a wrong content type with 415, no API key with 401", async () => {
    const bad = await api.fetch(`/api/v1/nodes/${nodeA2}/aliases`, {
      method: "POST",
      body: "{nope",
      headers: { "content-type": "application/json" },
    });
    expect(bad.status).toBe(400);
    const text = await api.fetch(`/api/v1/nodes/${nodeA2}/aliases`, {
      method: "POST",
      body: JSON.stringify({ name: "ok" }),
      headers: { "content-type": "text/plain" },
    });
    expect(text.status).toBe(415);
    const anon = await api.fetch(`/api/v1/nodes/${nodeA2}/aliases`, {
      method: "POST",
      json: { name: "ok" },
      auth: null,
    });
    expect(anon.status).toBe(401);
  });
});

describe("GET/DELETE /api/v1/aliases/{id}", () => {
  it("reads an alias, deletes it, then answers 404 and frees the name", async () => {
    const created = (await createAlias(nodeA2, "short-lived")).body.data;
    const got = await api.get(`/api/v1/aliases/${created.id}`);
    expect(got.status).toBe(200);
    expect(got.body.data).toEqual(created);
    expect(got.body.meta.request_id).toBe(got.headers.get("x-request-id"));
    expect((await api.get(`/api/v1/aliases/${created.id.toUpperCase()}`)).status).toBe(200);

    const del = await api.fetch(`/api/v1/aliases/${created.id}`, { method: "DELETE" });
    expect(del.status).toBe(204);
    expect(await del.text()).toBe("");
    const after = await api.get(`/api/v1/aliases/${created.id}`);
    expect(after.status).toBe(404);
    expect(after.body.error.code).toBe("not_found");
    expect((await api.del(`/api/v1/aliases/${created.id}`)).status).toBe(404);
    expect((await createAlias(nodeA1, "short-lived")).status).toBe(201);
  });

  it("answers unknown ids with 404, malformed ids and query strings with 400", async () => {
    expect((await api.get(`/api/v1/aliases/${crypto.randomUUID()}`)).status).toBe(404);
    expect((await api.del(`/api/v1/aliases/${crypto.randomUUID()}`)).status).toBe(404);
    for (const res of [await api.get("/api/v1/aliases/nope"), await api.del("/api/v1/aliases/12345")]) {
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe("bad_request");
      expect(Object.keys(res.body.error.details)).toContain("id");
    }
    const created = (await createAlias(nodeA2, "query-probe")).body.data;
    const q = await api.get(`/api/v1/aliases/${created.id}?x=1`);
    expect(q.status).toBe(400);
    expect(Object.keys(q.body.error.details)).toContain("x");
  });

  it("requires the API key", async () => {
    const res = await api.fetch(`/api/v1/aliases/${crypto.randomUUID()}`, { auth: null });
    expect(res.status).toBe(401);
  });
});

describe("GET /api/v1/aliases", () => {
  // A namespace of its own: fixed timestamps on a fresh set of aliases in cluster "gamma" and "alpha".
  const ids: Record<string, string> = {};
  let g1: string;
  let g2: string;

  beforeAll(async () => {
    g1 = (await enrolNode(api, "gamma")).nodeId;
    g2 = (await enrolNode(api, "gamma")).nodeId;
    const plan: [string, string, string, string][] = [
      // name, node, inserted_at, updated_at
      ["lst-one", g1, "2025-03-01T10:00:00Z", "2025-03-10T10:00:00Z"],
      ["lst-two", g1, "2025-03-02T10:00:00Z", "2025-03-11T10:00:00Z"],
      ["lst-three", g2, "2025-03-03T10:00:00Z", "2025-03-12T10:00:00Z"],
      ["other", g2, "2025-03-04T10:00:00Z", "2025-03-13T10:00:00Z"],
    ];
    for (const [name, node, ins, upd] of plan) {
      const res = await createAlias(node, name);
      expect(res.status).toBe(201);
      ids[name] = res.body.data.id;
      await db.run(
        sql`UPDATE aliases SET inserted_at = ${Date.parse(ins)}, updated_at = ${Date.parse(upd)} WHERE id = ${ids[name]}`,
      );
    }
  });

  async function names(query: string) {
    const res = await api.get(`/api/v1/aliases?${query}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body.data.map((a: any) => a.name);
  }

  it("lists with the envelope and default inserted_at order", async () => {
    const res = await api.get("/api/v1/aliases?cluster_name=gamma");
    expect(res.status).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(["data", "meta"]);
    expect(res.body.meta.request_id).toBe(res.headers.get("x-request-id"));
    expect(res.body.data.map((a: any) => a.name)).toEqual(["lst-one", "lst-two", "lst-three", "other"]);
    expect(res.body.data[0]).toMatchObject({
      id: ids["lst-one"],
      cluster_name: "gamma",
      node_id: g1,
      inserted_at: "2025-03-01T10:00:00Z",
      updated_at: "2025-03-10T10:00:00Z",
      vpn_hostname: `lst-one.${vpnDomain.gamma}`,
    });
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
  });

  it("filters by cluster_name exactly or by wildcard", async () => {
    expect(await names("cluster_name=beta-prod&order_by=name")).toEqual([
      "0",
      "9lives",
      "a",
      "a-b-1",
      "shared",
      "x".repeat(63),
    ]);
    expect(await names("cluster_name=beta")).toEqual([]);
    expect(await names("cluster_name=*-prod&order_by=name")).toHaveLength(6);
    expect(await names("cluster_name=gam*")).toHaveLength(4);
  });

  it("filters by name exactly or by wildcard", async () => {
    expect(await names("name=lst-two")).toEqual(["lst-two"]);
    expect(await names("name=lst-*&order_by=name")).toEqual(["lst-one", "lst-three", "lst-two"]);
    expect(await names("name=*-t*&cluster_name=gamma")).toEqual(["lst-two", "lst-three"]);
    expect(await names("name=shared&order_by=cluster_name")).toEqual(["shared", "shared"]);
    expect(await names("name=lst")).toEqual([]);
  });

  it("filters by node_id exactly (any case) and rejects a malformed one with 400", async () => {
    expect(await names(`node_id=${g1}`)).toEqual(["lst-one", "lst-two"]);
    expect(await names(`node_id=${g2.toUpperCase()}`)).toEqual(["lst-three", "other"]);
    expect(await names(`node_id=${crypto.randomUUID()}`)).toEqual([]);
    const bad = await api.get("/api/v1/aliases?node_id=nope");
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe("bad_request");
    expect(Object.keys(bad.body.error.details)).toEqual(["node_id"]);
  });

  it("filters by inserted_at and updated_at ranges, date-only bounds covering the whole day", async () => {
    expect(await names("inserted_at__gte=2025-03-02&inserted_at__lte=2025-03-03")).toEqual([
      "lst-two",
      "lst-three",
    ]);
    expect(await names("inserted_at__lte=2025-03-01T10:00:00Z")).toEqual(["lst-one"]);
    expect(await names("inserted_at__lte=2025-03-01T09:59:59Z")).toEqual([]);
    expect(await names("inserted_at__gte=2025-03-03T11:00:00%2B01:00&cluster_name=gamma")).toEqual([
      "lst-three",
      "other",
    ]);
    expect(await names("updated_at__gte=2025-03-12&updated_at__lte=2025-03-13")).toEqual([
      "lst-three",
      "other",
    ]);
    expect(await names("updated_at__lte=2025-03-10&cluster_name=gamma")).toEqual(["lst-one"]);
  });

  it("sorts by several fields and directions", async () => {
    expect(await names("cluster_name=gamma&order_by=name&order_directions=desc")).toEqual([
      "other",
      "lst-two",
      "lst-three",
      "lst-one",
    ]);
    expect(await names("cluster_name=gamma&order_by=inserted_at&order_directions=desc")).toEqual([
      "other",
      "lst-three",
      "lst-two",
      "lst-one",
    ]);
    expect(await names("cluster_name=gamma&order_by=updated_at")).toEqual([
      "lst-one",
      "lst-two",
      "lst-three",
      "other",
    ]);
    const both = await api.get(
      "/api/v1/aliases?name=*sh*&order_by=cluster_name,name&order_directions=desc,asc",
    );
    expect(both.body.data.map((a: any) => `${a.cluster_name}/${a.name}`)).toEqual([
      "beta-prod/shared",
      "alpha/shared",
      "alpha/short-lived",
    ]);
  });

  it("paginates", async () => {
    const first = await api.get("/api/v1/aliases?cluster_name=gamma&page_size=3");
    expect(first.body.data).toHaveLength(3);
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
    const second = await api.get("/api/v1/aliases?cluster_name=gamma&page_size=3&page=2");
    expect(second.body.data.map((a: any) => a.name)).toEqual(["other"]);
    expect(second.body.meta.pagination).toMatchObject({ has_prev: true, prev_page: 1, has_next: false });
    const beyond = await api.get("/api/v1/aliases?cluster_name=gamma&page=50");
    expect(beyond.status).toBe(200);
    expect(beyond.body.data).toEqual([]);
  });

  it.each([
    ["bogus=1", "bogus"],
    ["name=", "name"],
    ["cluster_name=", "cluster_name"],
    ["inserted_at__gte=yesterday", "inserted_at__gte"],
    ["updated_at__lte=2025-02-30", "updated_at__lte"],
    ["inserted_at__gte=2025-03-01T10:00:00", "inserted_at__gte"],
    ["order_by=node_id", "order_by"],
    ["order_directions=sideways", "order_directions"],
    ["order_by=name&order_directions=asc,desc", "order_directions"],
    ["page=0", "page"],
    ["page=abc", "page"],
    ["page_size=0", "page_size"],
    ["page_size=101", "page_size"],
    ["name=a&name=b", "name"],
  ])("rejects ?%s with 400 naming %s", async (query, field) => {
    const res = await api.get(`/api/v1/aliases?${query}`);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("bad_request");
    expect(Object.keys(res.body.error.details)).toContain(field);
  });
});
