import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { UNLIMITED } from "../../src/admins/limits";
import { createDatabase } from "../../src/db/client";
import { enrolNode } from "./agent-session";
import { createTestApi, type TestApi } from "./harness";

// No Durable Object is involved (enrolment and the admin routes only touch libSQL): this file has its
// own database namespace, so every count below is exact.
let api: TestApi;
let db: ReturnType<typeof createDatabase>;
const nodeIds: Record<string, string[]> = { east: [], west: [] };
const PATHS = [
  "/api/v1/admins/me",
  "/api/v1/admins/my_admin_cluster",
  "/api/v1/admins/admin_clusters",
  "/api/v1/admins/edge_clusters",
  "/api/v1/admins/orphaned_clusters",
  "/api/v1/admins/me/metrics",
];

beforeAll(async () => {
  api = await createTestApi();
  db = createDatabase({ url: api.env.LIBSQL_URL! });
  for (const name of ["west", "east", "empty"])
    expect((await api.post("/api/v1/clusters", { name })).status).toBe(201);
  for (const name of ["east", "east", "west"]) nodeIds[name].push((await enrolNode(api, name)).nodeId);
  await db.run(sql`UPDATE nodes SET status = 'healthy' WHERE id = ${nodeIds.east[0]}`);
  await db.run(sql`UPDATE nodes SET status = 'unhealthy' WHERE id = ${nodeIds.east[1]}`);

  // Executions in every status, a webhook with one succeeded and one failed delivery, self-update requests.
  const now = Date.now();
  await db.run(sql`INSERT INTO commands (id, command_text, targeting, inserted_at, updated_at)
    VALUES ('c0000000-0000-4000-8000-000000000000', 'true', '{"type":"all"}', ${now}, ${now})`);
  const statuses = ["pending", "sent", "sent", "completed", "completed", "completed", "cancelled", "expired"];
  for (const [i, status] of statuses.entries()) {
    await db.run(sql`INSERT INTO command_executions (id, command_id, node_id, target_all, command_text, status, sent_at,
        inserted_at, updated_at)
      VALUES (${crypto.randomUUID()}, 'c0000000-0000-4000-8000-000000000000', ${nodeIds.east[0]}, 1, 'true', ${status},
        ${status === "pending" || (status === "expired" && i > 0) ? null : now}, ${now}, ${now})`);
  }
  const fannedOut = await db.all<{ id: string }>(sql`SELECT id FROM events ORDER BY occurred_at LIMIT 2`);
  for (const event of fannedOut)
    await db.run(sql`UPDATE events SET fanned_out_at = ${now} WHERE id = ${event.id}`);
  await db.run(sql`INSERT INTO webhooks (id, url, secret_ciphertext, subscribed_events, inserted_at, updated_at)
    VALUES ('w0000000-0000-4000-8000-000000000000', 'https://hooks.example.com', 'x', '[]', ${now}, ${now})`);
  for (const [i, [id, status, codes]] of (
    [
      ["d0000000-0000-4000-8000-000000000001", "succeeded", [500, 200]],
      ["d0000000-0000-4000-8000-000000000002", "failed", [503, 503, 503]],
    ] as const
  ).entries()) {
    const event = fannedOut[i];
    await db.run(sql`INSERT INTO webhook_deliveries (id, webhook_id, event_id, event_type, status, attempts, inserted_at, updated_at)
      VALUES (${id}, 'w0000000-0000-4000-8000-000000000000', ${event.id}, 'edge.node.registered', ${status}, ${codes.length}, ${now}, ${now})`);
    for (const [i, code] of codes.entries()) {
      await db.run(sql`INSERT INTO webhook_delivery_attempts (id, delivery_id, attempt, status_code, duration_ms, attempted_at)
        VALUES (${crypto.randomUUID()}, ${id}, ${i + 1}, ${code}, 12, ${now})`);
    }
  }
  for (const status of ["completed", "completed", "pending"]) {
    await db.run(sql`INSERT INTO self_update_requests (id, targeting, status, inserted_at, updated_at)
      VALUES (${crypto.randomUUID()}, '{"type":"all"}', ${status}, ${now}, ${now})`);
  }
});

describe("GET /api/v1/admins/me", () => {
  it("describes this deployment as one admin with a stable id derived from its public origin", async () => {
    const res = await api.get("/api/v1/admins/me");
    expect(res.status).toBe(200);
    const me = res.body.data;
    expect(Object.keys(me).sort()).toEqual(
      [
        "admin_cluster_name",
        "admin_peer_count",
        "edge_node_capacity",
        "erlang_node_name",
        "id",
        "last_computed_at",
        "max_wireguard_peers",
        "name",
        "netmaker_host_id",
        "vpn_hostname",
      ].sort(),
    );
    expect(me.id).toMatch(/^[0-9a-z]{12}$/);
    expect(me).toMatchObject({
      name: `admin-${me.id}`,
      admin_cluster_name: "outpost.test",
      vpn_hostname: "outpost.test",
      erlang_node_name: "admin@outpost.test",
      admin_peer_count: 0,
      edge_node_capacity: UNLIMITED,
      max_wireguard_peers: UNLIMITED,
    });
    expect(me.netmaker_host_id).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(me.last_computed_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect((await api.get("/api/v1/admins/me")).body.data.id).toBe(me.id);
  });

  it("takes its identity from PUBLIC_API_URL when set", async () => {
    const other = await createTestApi({
      PUBLIC_API_URL: "https://fleet.example.com/",
      LIBSQL_URL: api.env.LIBSQL_URL,
    });
    const me = (await other.get("/api/v1/admins/me")).body.data;
    const again = (await other.get("/api/v1/admins/me")).body.data;
    expect(me).toMatchObject({ vpn_hostname: "fleet.example.com", admin_cluster_name: "fleet.example.com" });
    expect(again.id).toBe(me.id);
    expect(me.id).not.toBe((await api.get("/api/v1/admins/me")).body.data.id);
  });
});

describe("admin cluster and edge cluster assignments", () => {
  it("my_admin_cluster: one admin, every node counted, never degraded", async () => {
    const me = (await api.get("/api/v1/admins/me")).body.data;
    const res = await api.get("/api/v1/admins/my_admin_cluster");
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({
      degraded: false,
      name: "outpost.test",
      topology: [
        {
          admin_peer_count: 0,
          edge_node_capacity: UNLIMITED,
          erlang_node_name: me.erlang_node_name,
          max_wireguard_peers: UNLIMITED,
          name: me.name,
          netmaker_host_id: me.netmaker_host_id,
          vpn_hostname: me.vpn_hostname,
        },
      ],
      total_admins: 1,
      total_edge_capacity: UNLIMITED,
      total_nodes: 3,
      weak_leader: me.name,
    });
  });

  it("admin_clusters: this admin, online, with no admin network", async () => {
    const me = (await api.get("/api/v1/admins/me")).body.data;
    const res = await api.get("/api/v1/admins/admin_clusters");
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual([
      {
        admin_count: 1,
        admins: [
          {
            ipv4_address: null,
            last_checked_in: expect.stringMatching(/Z$/),
            name: me.name,
            netmaker_host_id: me.netmaker_host_id,
            status: "online",
            use_static_port: false,
            vpn_hostname: "outpost.test",
            wireguard_ip_address: null,
            wireguard_port: null,
          },
        ],
        ipv4_range: "100.64.0.0/10",
        name: "outpost.test",
      },
    ]);
  });

  it("edge_clusters: every cluster with its node ids (oldest first) under this admin; orphaned: none", async () => {
    const me = (await api.get("/api/v1/admins/me")).body.data;
    const res = await api.get("/api/v1/admins/edge_clusters");
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ [me.name]: { east: nodeIds.east, empty: [], west: nodeIds.west } });
    expect(Object.keys(res.body.data[me.name])).toEqual(["east", "empty", "west"]);
    const orphaned = await api.get("/api/v1/admins/orphaned_clusters");
    expect(orphaned.status).toBe(200);
    expect(orphaned.body.data).toEqual({});
  });
});

describe("GET /api/v1/admins/me/metrics", () => {
  it("reports fleet counts in the seed's sections and nulls what Outpost does not have", async () => {
    const res = await api.get("/api/v1/admins/me/metrics");
    expect(res.status).toBe(200);
    const m = res.body.data;
    // The API fans events out to webhooks after its own writes, so the outbox counts come from the table.
    const [outbox] = await db.all<{ total: number; fanned: number }>(
      sql`SELECT count(*) AS total, count(fanned_out_at) AS fanned FROM events`,
    );
    expect(m.nodes).toEqual({
      health_checks_total: null,
      total: 3,
      by_status: { healthy: 1, unhealthy: 1, unreachable: 1 },
    });
    expect(m.commands).toEqual({
      delivery_delivered_count: null,
      delivery_total: null,
      execution_completed_total: 3,
      execution_delivered_total: 6,
      expiration_total: 1,
      executions_by_status: { pending: 1, sent: 2, completed: 3, cancelled: 1, expired: 1 },
    });
    expect(m.webhook).toEqual({
      deliveries_ok_total: 1,
      deliveries_recoverable_total: 3,
      deliveries_terminal_total: 1,
      deliveries_total: 5,
      fan_outs_total: outbox.fanned,
    });
    expect(m.self_updates).toEqual({ completed_total: 2, pending: 1, processing: 0 });
    expect(m.metadata).toEqual({
      assigned_clusters: 3,
      degraded: false,
      orphaned_clusters: 0,
      recomputations_total: null,
    });
    expect(m.event_broker).toEqual({
      enabled: false,
      enqueues_total: 0,
      publishes_error_total: 0,
      publishes_ok_total: 0,
      publishes_total: 0,
    });
    // Enrolment wrote events (registered, key verified).
    expect(outbox.total).toBeGreaterThanOrEqual(6);
    expect(m.events).toEqual({ total: outbox.total, backlog: outbox.total - outbox.fanned });
    expect(m.database.latency_ms).toBeGreaterThanOrEqual(0);
    expect(m.oban_queues).toEqual([
      {
        queue: "command_executions",
        available: 1,
        scheduled: 0,
        executing: 2,
        retryable: 0,
        completed: 3,
        cancelled: 1,
        discarded: 1,
      },
      {
        queue: "webhook_deliveries",
        available: 0,
        scheduled: 0,
        executing: 0,
        retryable: 0,
        completed: 1,
        cancelled: 0,
        discarded: 1,
      },
      {
        queue: "self_update_requests",
        available: 1,
        scheduled: 0,
        executing: 0,
        retryable: 0,
        completed: 2,
        cancelled: 0,
        discarded: 0,
      },
    ]);
    for (const section of [
      "application",
      "discovery",
      "gateways",
      "membership",
      "proxy",
      "quantum",
      "ssh",
      "vpn",
    ]) {
      expect(
        Object.values(m[section]).every((value) => value === null),
        section,
      ).toBe(true);
    }
    expect(Object.keys(m.application)).toContain("uptime_human");
    expect(m.reconciliation).toEqual({ errors: null, total: null });
    expect(m.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });
});

describe("errors", () => {
  it("answers 503 service_unavailable when the database is unreachable (me needs no database)", async () => {
    const down = await createTestApi({ LIBSQL_URL: "http://127.0.0.1:9/" });
    for (const path of PATHS) {
      const res = await down.get(path);
      if (path === "/api/v1/admins/me") {
        expect(res.status).toBe(200);
        continue;
      }
      expect(res.status, path).toBe(503);
      expect(res.body.error.code, path).toBe("service_unavailable");
    }
  });

  it("refuses query parameters and a missing key", async () => {
    for (const path of PATHS) {
      const res = await api.get(`${path}?page=2`);
      expect(res.status, path).toBe(400);
      const anonymous = await api.fetch(path, { auth: null });
      expect(anonymous.status, path).toBe(401);
    }
  });
});
