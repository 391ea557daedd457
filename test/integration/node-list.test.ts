import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { enrolNode } from "./agent-session";
import { api, clusters, db, makeCluster, NODE_FIELDS, P, setUpNodes, startNodesFile } from "./nodes-fixture";

startNodesFile();

// The node list's envelope, pagination, every filter and sort, over nodes planted with known values.
beforeAll(setUpNodes);

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

  it("lists nodes in the envelope with the contract's pagination block and default inserted_at order", async () => {
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
    ["order_by=kernel", "order_by"],
    ["order_by=ID_TYPE", "order_by"],
    ["order_directions=up", "order_directions"],
    ["order_by=status&order_directions=asc,desc", "order_directions"],
    ["page=0", "page"],
    ["page=-1", "page"],
    ["page_size=0", "page_size"],
    ["page_size=101", "page_size"],
    ["page_size=ten", "page_size"],
    ["hostname=", "hostname"],
    ["colour=red", "colour"],
    ["tags=Web%20Servers", "tags"],
    ["pending_updates__gte=many", "pending_updates__gte"],
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
  // Regression: booleanFilter (src/list-query/filters.ts) once tested `raw in BOOL_VALUES`, which
  // also accepted names inherited from Object.prototype as a (truthy) value.
  it("rejects self_update_enabled values that are Object.prototype member names with 400", async () => {
    const statuses: Record<string, number> = {};
    for (const value of ["toString", "constructor", "hasOwnProperty", "valueOf"]) {
      statuses[value] = (await api.get(`/api/v1/nodes?self_update_enabled=${value}`)).status;
    }
    expect(statuses).toEqual({ toString: 400, constructor: 400, hasOwnProperty: 400, valueOf: 400 });
  });
});
