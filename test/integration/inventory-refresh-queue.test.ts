import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { createDatabase } from "../../src/db/client";
import { runCronTick } from "../../workers/cron";
import { createTestApi } from "./harness";

// A fleet inventory refresh of 10,000 nodes: the request records every target and asks only the
// first batch; each cron tick asks at most INVENTORY_REFRESH_NODES_PER_TICK more, and the request
// shows how far it got. Long-unreachable nodes are offline at once, without a subrequest each.

describe("fleet inventory refresh at 10,000 nodes", () => {
  it("asks a bounded batch per step, oldest first, with its progress in the request", async () => {
    // A private database: 'all' means these nodes; their sessions exist but no agent is connected.
    const big = await createTestApi({ INVENTORY_REFRESH_NODES_PER_TICK: "50" });
    const bigDb = createDatabase({ url: big.env.LIBSQL_URL ?? "" });
    const cluster = (await big.post("/api/v1/clusters", { name: "fleet", ipv4_range: "10.0.0.0/16" })).body
      .data;
    const now = Date.now();
    // 9,880 nodes dark for long; 120 seen a moment ago, whose sessions must be asked.
    await bigDb.run(sql`
      WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < 10000)
      INSERT INTO nodes (id, id_type, cluster_id, node_name, status, last_seen_at, api_token_hash, api_token_ciphertext,
                         proxy_password_ciphertext, self_update_enabled, inserted_at, updated_at)
      SELECT printf('00000000-0000-4000-9000-%012d', i), 'random', ${cluster.id}, 'node-' || i,
             CASE WHEN i > 9880 THEN 'healthy' ELSE 'unreachable' END,
             CASE WHEN i > 9880 THEN ${now} ELSE NULL END,
             'hash-' || i, 'x', 'x', 1, ${now} + i, ${now} + i FROM seq`);

    const created = await big.post("/api/v1/inventory_refresh_requests", {
      targeting: { type: "all" },
      sections: ["software"],
    });
    expect(created.status, JSON.stringify(created.body)).toBe(202);
    const id = created.body.data.id;
    expect(created.body.data).toMatchObject({
      status: "processing",
      summary: { total: 10_000, queued: 70, requested: 0, answered: 0, offline: 9_930, unsupported: 0 },
    });
    const summary = async () => (await big.get(`/api/v1/inventory_refresh_requests/${id}`)).body.data;

    const first = await runCronTick(big.env);
    expect(first.inventory_refresh_requests).toEqual({ ok: true, result: { asked: 50, requests: 1 } });
    expect(await summary()).toMatchObject({ status: "processing", summary: { queued: 20, offline: 9_980 } });

    const second = await runCronTick(big.env);
    expect(second.inventory_refresh_requests).toEqual({ ok: true, result: { asked: 20, requests: 1 } });
    const done = await summary();
    expect(done).toMatchObject({
      status: "completed",
      summary: { total: 10_000, queued: 0, offline: 10_000 },
    });
    expect(Date.parse(done.updated_at)).toBeGreaterThanOrEqual(Date.parse(created.body.data.updated_at));

    const idle = await runCronTick(big.env);
    expect(idle.inventory_refresh_requests).toEqual({ ok: true, result: { asked: 0, requests: 0 } });

    // The queued targets are found through the partial index, not by reading the settled ones.
    const plan = await bigDb.all<{ detail: string }>(
      sql`EXPLAIN QUERY PLAN SELECT rowid FROM inventory_refresh_targets WHERE request_id = ${id} AND status = 'queued' LIMIT 50`,
    );
    expect(plan.map((p) => p.detail).join("\n")).toContain("inventory_refresh_targets_queued_idx");
  });

  it("shares one tick's bound between requests, oldest first", async () => {
    const api = await createTestApi({ INVENTORY_REFRESH_NODES_PER_TICK: "3" });
    const db = createDatabase({ url: api.env.LIBSQL_URL ?? "" });
    const cluster = (await api.post("/api/v1/clusters", { name: "pair", ipv4_range: "10.1.0.0/16" })).body
      .data;
    const now = Date.now();
    await db.run(sql`
      WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < 5)
      INSERT INTO nodes (id, id_type, cluster_id, node_name, status, last_seen_at, api_token_hash, api_token_ciphertext,
                         proxy_password_ciphertext, self_update_enabled, inserted_at, updated_at)
      SELECT printf('00000000-0000-4000-9100-%012d', i), 'random', ${cluster.id}, 'pair-' || i, 'healthy', ${now},
             'hash-' || i, 'x', 'x', 1, ${now} + i, ${now} + i FROM seq`);
    const older = (await api.post("/api/v1/inventory_refresh_requests", { targeting: { type: "all" } })).body
      .data;
    const newer = (await api.post("/api/v1/inventory_refresh_requests", { targeting: { type: "all" } })).body
      .data;
    expect([older.summary.queued, newer.summary.queued]).toEqual([2, 2]);

    const tick = await runCronTick(api.env);
    expect(tick.inventory_refresh_requests).toEqual({ ok: true, result: { asked: 3, requests: 2 } });
    const queuedOf = async (r: { id: string }) =>
      (await api.get(`/api/v1/inventory_refresh_requests/${r.id}`)).body.data.summary.queued;
    expect([await queuedOf(older), await queuedOf(newer)]).toEqual([0, 1]);
  });
});
