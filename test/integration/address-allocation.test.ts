import { type SQL, sql } from "drizzle-orm";
import { SQLiteSyncDialect } from "drizzle-orm/sqlite-core";
import { beforeAll, describe, expect, it } from "vitest";
import { createDatabase } from "../../src/db/client";
import { decodeKeyBlob } from "../../src/enrollment/key-blob";
import { intToIpv4 } from "../../src/net/cidr";
import { allocateAddress } from "../../src/nodes/address";
import { inline } from "./executions-fixture";
import { createTestApi, type TestApi } from "./harness";

// Issue 23: enrolment must cost the same for the 10,000th node as for the first. The allocator
// reads one counter row or one free-list entry, never the cluster's members; the triggers of
// migrations/0002 keep the counter, the member count and the free list in step with `nodes`.
// Its own database: nothing here reaches a Durable Object.
let api: TestApi;
let db: ReturnType<typeof createDatabase>;

beforeAll(async () => {
  api = await createTestApi({ CLUSTER_IPV4_POOL: "100.64.0.0/16", CLUSTER_IPV4_PREFIX: "24" });
  db = createDatabase({ url: api.env.LIBSQL_URL! });
});

async function makeCluster(name: string, extra: object = {}) {
  const res = await api.post("/api/v1/clusters", { name, ...extra });
  expect(res.status).toBe(201);
  const [row] = await db.all<{ id: string; ipv4_start: number; ipv4_end: number }>(
    sql`SELECT id, ipv4_start, ipv4_end FROM clusters WHERE name = ${name}`,
  );
  return { id: row.id, ipv4Start: row.ipv4_start, ipv4End: row.ipv4_end };
}

async function enrolInto(cluster: string, count: number) {
  const key = await api.post(`/api/v1/clusters/${cluster}/enrollment_keys`, { uses_remaining: count });
  expect(key.status).toBe(201);
  const secret = decodeKeyBlob(key.body.data.key)!.key;
  const nodes: { id: string; ip: string }[] = [];
  for (let i = 0; i < count; i++) {
    const res = await api.fetch("/agent/v1/enroll", {
      method: "POST",
      auth: null,
      json: {
        key: secret,
        node_id: crypto.randomUUID(),
        id_type: "random",
        hostname: "h",
        platform: "linux",
        version: "1.0.0",
      },
    });
    expect(res.status).toBe(201);
    const body = (await res.json()) as { data: { id: string; ipv4_address: string } };
    nodes.push({ id: body.data.id, ip: body.data.ipv4_address });
  }
  return nodes;
}

/** The address `offset` hosts past the cluster's network address. */
const at = (cluster: { ipv4Start: number }, offset: number) => intToIpv4(cluster.ipv4Start + offset);

const seats = async (clusterId: string) =>
  (
    await db.all<{ node_count: number; next_host: number; free: number }>(sql`
      SELECT node_count, next_host, (SELECT count(*) FROM cluster_free_addresses WHERE cluster_id = id) AS free
        FROM clusters WHERE id = ${clusterId}`)
  )[0];

describe("address allocation", () => {
  it("reads no member of the cluster: every statement it runs is an index lookup", async () => {
    const cluster = await makeCluster("alloc-plan");
    await enrolInto("alloc-plan", 3);
    // One given back, so both the free-list pop and (after it) the counter run.
    await db.run(
      sql`DELETE FROM nodes WHERE cluster_id = ${cluster.id} AND ipv4_address = ${at(cluster, 3)}`,
    );
    const ran: SQL[] = [];
    const recording = {
      all: ((query: SQL) => {
        ran.push(query);
        return db.all(query);
      }) as typeof db.all,
    };
    expect(await allocateAddress(recording, cluster)).toBe(at(cluster, 3));
    expect(await allocateAddress(recording, cluster)).toBe(at(cluster, 5));
    expect(ran).toHaveLength(3); // pop; pop (empty) + counter: the fallback scan never ran
    for (const query of ran) {
      const { sql: text, params } = new SQLiteSyncDialect().sqlToQuery(query);
      const plan = (
        await db.all<{ detail: string }>(sql.raw(`EXPLAIN QUERY PLAN ${inline(text, params)}`))
      ).map((r) => r.detail);
      expect(plan.join("\n")).not.toMatch(/\bnodes\b/);
      for (const step of plan) expect(step, plan.join("\n")).not.toMatch(/^SCAN /);
    }
  });

  it("counts members and reuses a given-back address, whoever wrote the row", async () => {
    const cluster = await makeCluster("alloc-reuse");
    const nodes = await enrolInto("alloc-reuse", 4);
    expect(nodes.map((n) => n.ip)).toEqual([2, 3, 4, 5].map((k) => at(cluster, k)));
    expect(await seats(cluster.id)).toEqual({ node_count: 4, next_host: 4, free: 0 });

    await db.run(sql`DELETE FROM nodes WHERE id = ${nodes[1].id}`);
    expect(await seats(cluster.id)).toEqual({ node_count: 3, next_host: 4, free: 1 });
    // A row written straight into the table above the counter moves the counter past it.
    await db.run(sql`
      INSERT INTO nodes (id, id_type, cluster_id, node_name, ipv4_address, api_token_hash, api_token_ciphertext,
                         proxy_password_ciphertext, inserted_at, updated_at)
      VALUES ('direct-1', 'random', ${cluster.id}, 'direct-1', ${at(cluster, 9)}, 'direct-1', 'x', 'x', 0, 0)`);
    expect(await seats(cluster.id)).toEqual({ node_count: 4, next_host: 8, free: 1 });

    const more = await enrolInto("alloc-reuse", 2);
    expect(more.map((n) => n.ip)).toEqual([at(cluster, 3), at(cluster, 10)]);
    expect(await seats(cluster.id)).toEqual({ node_count: 6, next_host: 9, free: 0 });
  });

  it("frees the old address and takes a new one on a cluster change", async () => {
    const from = await makeCluster("alloc-from");
    const to = await makeCluster("alloc-to");
    const [node] = await enrolInto("alloc-from", 1);
    const res = await api.patch(`/api/v1/nodes/${node.id}/change_cluster`, { cluster_name: "alloc-to" });
    expect(res.status).toBe(200);
    expect(await seats(from.id)).toEqual({ node_count: 0, next_host: 1, free: 1 });
    expect(await seats(to.id)).toEqual({ node_count: 1, next_host: 1, free: 0 });
    expect((await enrolInto("alloc-from", 1))[0].ip).toBe(node.ip);
  });

  it("falls back to the scan only when the counter is spent, and refuses a full range", async () => {
    const cluster = await makeCluster("alloc-full");
    // Pretend the counter ran out while an address below it was never handed out.
    await enrolInto("alloc-full", 1);
    await db.run(sql`UPDATE clusters SET next_host = ipv4_end - ipv4_start - 2 WHERE id = ${cluster.id}`);
    expect(await allocateAddress(db, cluster)).toBe(at(cluster, 3));
    await db.run(sql`UPDATE clusters SET next_host = 0 WHERE id = ${cluster.id}`);
    await db.run(sql`
      WITH RECURSIVE host(value) AS (SELECT 3 UNION ALL SELECT value + 1 FROM host WHERE value < 254)
      INSERT INTO nodes (id, id_type, cluster_id, node_name, ipv4_address, api_token_hash, api_token_ciphertext,
                         proxy_password_ciphertext, inserted_at, updated_at)
      SELECT 'full-' || value, 'random', ${cluster.id}, 'full-' || value,
             ((ipv4_start + value) >> 24 & 255) || '.' || ((ipv4_start + value) >> 16 & 255) || '.' ||
             ((ipv4_start + value) >> 8 & 255) || '.' || ((ipv4_start + value) & 255),
             'full-' || value, 'x', 'x', 0, 0
        FROM clusters, host WHERE id = ${cluster.id}`);
    expect(await allocateAddress(db, cluster)).toBeNull();
  });
});
