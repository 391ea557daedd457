import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { createDatabase } from "../../src/db/client";
import { createTestApi, type TestApi } from "./harness";

let api: TestApi;
const DAY = 86_400_000;

async function names(path: string): Promise<string[]> {
  const res = await api.get(path);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.data.map((c: { name: string }) => c.name);
}

beforeAll(async () => {
  api = await createTestApi();
  for (const [name, limit] of [
    ["alpha", 10],
    ["beta", null],
    ["gamma-prod", 30],
    ["delta-prod", 20],
  ] as const) {
    await api.post("/api/v1/clusters", { name, node_limit: limit });
  }
  const db = createDatabase({ url: api.env.LIBSQL_URL! });
  // Spread inserted_at over known days so date ranges are checkable.
  await db.run(
    sql`UPDATE clusters SET inserted_at = ${Date.parse("2025-01-01T12:00:00Z")} WHERE name = 'alpha'`,
  );
  await db.run(
    sql`UPDATE clusters SET inserted_at = ${Date.parse("2025-01-02T00:00:00Z")} WHERE name = 'beta'`,
  );
  await db.run(
    sql`UPDATE clusters SET inserted_at = ${Date.parse("2025-01-02T23:59:59Z")} WHERE name = 'gamma-prod'`,
  );
  await db.run(
    sql`UPDATE clusters SET inserted_at = ${Date.parse("2025-01-03T00:00:00Z")} WHERE name = 'delta-prod'`,
  );

  const keys = [
    { name: "Prod Rollout", uses_remaining: 5 },
    { name: "staging", uses_remaining: null },
    { name: "100%_off", uses_remaining: 1 },
    { uses_remaining: 2 },
  ];
  for (const k of keys) await api.post("/api/v1/clusters/alpha/enrollment_keys", k);
  await api.post("/api/v1/clusters/beta/enrollment_keys", {
    name: "beta key",
    expired_at: new Date(Date.now() + DAY).toISOString(),
  });
  await db.run(
    sql`UPDATE enrollment_keys SET uses_remaining = 0, last_used_at = ${Date.now()} WHERE name = 'staging'`,
  );
  await db.run(sql`UPDATE enrollment_keys SET expired_at = ${Date.now() - DAY} WHERE name = '100%_off'`);
});

describe("cluster filters", () => {
  it("matches names exactly, by wildcard, and case-sensitively", async () => {
    expect(await names("/api/v1/clusters?name=alpha")).toEqual(["alpha"]);
    expect(await names("/api/v1/clusters?name=alp")).toEqual([]);
    expect(await names("/api/v1/clusters?name=*-prod&order_by=name")).toEqual(["delta-prod", "gamma-prod"]);
    expect(await names("/api/v1/clusters?name=*et*")).toEqual(["beta"]);
    expect(await names("/api/v1/clusters?name=ALPHA")).toEqual([]);
  });

  it("treats SQL and glob metacharacters literally", async () => {
    expect(await names("/api/v1/clusters?name=%25")).toEqual([]);
    expect(await names("/api/v1/clusters?name=_lpha")).toEqual([]);
    expect(await names("/api/v1/clusters?name=?lpha")).toEqual([]);
    expect(await names("/api/v1/clusters?name=[a]lpha")).toEqual([]);
    expect(await names("/api/v1/clusters?name=' OR 1=1 --")).toEqual([]);
  });

  it("filters node limits by presence, value and range", async () => {
    expect(await names("/api/v1/clusters?has_node_limit=false&order_by=name")).toEqual(["beta"]);
    expect(await names("/api/v1/clusters?node_limit=20")).toEqual(["delta-prod"]);
    expect(await names("/api/v1/clusters?node_limit__gte=20&order_by=node_limit")).toEqual([
      "delta-prod",
      "gamma-prod",
    ]);
    expect(await names("/api/v1/clusters?node_limit__lte=10")).toEqual(["alpha"]);
    expect(await names("/api/v1/clusters?node_count__gte=0&node_count__lte=0&page_size=100")).toHaveLength(4);
    expect(await names("/api/v1/clusters?node_count__gte=1")).toEqual([]);
  });

  it("filters datetimes, with date-only bounds covering whole days", async () => {
    expect(
      await names("/api/v1/clusters?inserted_at__gte=2025-01-02&inserted_at__lte=2025-01-02&order_by=name"),
    ).toEqual(["beta", "gamma-prod"]);
    expect(await names("/api/v1/clusters?inserted_at__lte=2025-01-01T12:00:00Z")).toEqual(["alpha"]);
    expect(await names("/api/v1/clusters?inserted_at__gte=2025-01-03T01:00:00%2B01:00")).toEqual([
      "delta-prod",
    ]);
    expect(await names("/api/v1/clusters?updated_at__gte=2020-01-01&page_size=100")).toHaveLength(4);
  });

  it("filters by ipv4_range exactly or by wildcard", async () => {
    const all = (await api.get("/api/v1/clusters?name=alpha")).body.data[0].ipv4_range;
    expect(await names(`/api/v1/clusters?ipv4_range=${encodeURIComponent(all)}`)).toEqual(["alpha"]);
    expect(await names("/api/v1/clusters?ipv4_range=100.64.*&page_size=100")).toHaveLength(4);
  });
});

describe("sorting", () => {
  it("sorts by several fields with directions and defaults to inserted_at asc", async () => {
    expect(await names("/api/v1/clusters")).toEqual(["alpha", "beta", "gamma-prod", "delta-prod"]);
    expect(await names("/api/v1/clusters?order_by=name&order_directions=desc")).toEqual([
      "gamma-prod",
      "delta-prod",
      "beta",
      "alpha",
    ]);
    expect(await names("/api/v1/clusters?order_by=node_limit,name&order_directions=desc,asc")).toEqual([
      "gamma-prod",
      "delta-prod",
      "alpha",
      "beta",
    ]);
  });
});

describe("pagination", () => {
  it("reports the contract's pagination block", async () => {
    const first = await api.get("/api/v1/clusters?page_size=3");
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
    const second = await api.get("/api/v1/clusters?page_size=3&page=2");
    expect(second.body.data).toHaveLength(1);
    expect(second.body.meta.pagination).toMatchObject({
      has_next: false,
      has_prev: true,
      next_page: null,
      prev_page: 1,
    });
    const beyond = await api.get("/api/v1/clusters?page=999999");
    expect(beyond.status).toBe(200);
    expect(beyond.body.data).toEqual([]);
    expect((await api.get("/api/v1/clusters?page_size=100")).status).toBe(200);
  });

  it("reports an empty result as zero pages", async () => {
    const res = await api.get("/api/v1/clusters?name=nothing");
    expect(res.body.meta.pagination).toMatchObject({
      total_count: 0,
      total_pages: 0,
      has_next: false,
      has_prev: false,
    });
  });
});

describe("bad query parameters", () => {
  it.each([
    ["page=0", "page"],
    ["page=-1", "page"],
    ["page=abc", "page"],
    ["page=99999999999999", "page"],
    ["page_size=0", "page_size"],
    ["page_size=101", "page_size"],
    ["order_by=secret", "order_by"],
    ["order_by=name&order_directions=up", "order_directions"],
    ["order_by=name&order_directions=asc,desc", "order_directions"],
    ["has_node_limit=maybe", "has_node_limit"],
    ["node_limit=ten", "node_limit"],
    ["node_limit__gte=1.5", "node_limit__gte"],
    ["inserted_at__gte=yesterday", "inserted_at__gte"],
    ["inserted_at__lte=2025-02-30", "inserted_at__lte"],
    ["bogus=1", "bogus"],
    ["name=a&name=b", "name"],
    ["name=", "name"],
  ])("?%s → 400 naming %s", async (query, param) => {
    const res = await api.get(`/api/v1/clusters?${query}`);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("bad_request");
    expect(res.body.error.details).toHaveProperty(param);
  });

  it("lists the allowed parameters for an unknown one", async () => {
    const res = await api.get("/api/v1/clusters?colour=red");
    expect(res.body.error.details.colour[0]).toContain("has_node_limit");
  });

  it("rejects query parameters on operations that take none", async () => {
    expect((await api.get("/api/v1/clusters/alpha?verbose=1")).status).toBe(400);
  });
});

describe("enrollment key filters", () => {
  const keyNames = async (q: string) =>
    (await api.get(`/api/v1/enrollment_keys?${q}&order_by=name&page_size=100`)).body.data.map(
      (k: any) => k.name,
    );

  it("matches names case-insensitively by substring or wildcard, escaping % and _", async () => {
    expect(await keyNames("name=rollout")).toEqual(["Prod Rollout"]);
    expect(await keyNames("name=PROD*")).toEqual(["Prod Rollout"]);
    expect(await keyNames("name=%25_")).toEqual(["100%_off"]);
    expect(await keyNames("name=_")).toEqual(["100%_off"]);
  });

  it("filters by cluster, presence and state", async () => {
    expect(await keyNames("cluster_name=beta")).toEqual(["beta key"]);
    expect(await keyNames("cluster_name=al*")).toHaveLength(4);
    expect(await keyNames("has_name=false")).toEqual([null]);
    expect(await keyNames("has_expiry=true")).toEqual(["100%_off", "beta key"]);
    expect(await keyNames("is_expired=true")).toEqual(["100%_off"]);
    expect(await keyNames("is_expired=false")).toHaveLength(4);
    expect(await keyNames("is_spent=true")).toEqual(["staging"]);
    expect(await keyNames("is_unlimited=false")).toHaveLength(5);
    expect(await keyNames("is_never_used=false")).toEqual(["staging"]);
    expect(await keyNames("uses_remaining=5")).toEqual(["Prod Rollout"]);
    expect(await keyNames("uses_remaining__gte=2&uses_remaining__lte=4")).toEqual([null]);
    expect(await keyNames("last_used_at__gte=2020-01-01")).toEqual(["staging"]);
    expect(await keyNames("expired_at__lte=2999-01-01")).toEqual(["100%_off", "beta key"]);
  });

  it("finds a key by its exact blob", async () => {
    const all = (await api.get("/api/v1/enrollment_keys?name=staging")).body.data;
    const res = await api.get(`/api/v1/enrollment_keys?key=${encodeURIComponent(all[0].key)}`);
    expect(res.body.data.map((k: any) => k.id)).toEqual([all[0].id]);
    expect((await api.get("/api/v1/enrollment_keys?key=nope")).body.data).toEqual([]);
  });

  it("sorts by cluster_name and uses_remaining", async () => {
    const res = await api.get(
      "/api/v1/enrollment_keys?order_by=cluster_name,uses_remaining&order_directions=desc,asc",
    );
    expect(res.body.data[0].cluster_name).toBe("beta");
  });
});
