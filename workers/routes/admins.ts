import { sql } from "drizzle-orm";
import type { Hono } from "hono";
import * as v from "valibot";
import type { Database } from "../../src/db/client";
import {
  clusters,
  commandExecutions,
  events,
  nodes,
  selfUpdateRequests,
  webhookDeliveries,
  webhookDeliveryAttempts,
} from "../../src/db/schema";
import { DateTimeOutput } from "../../src/schemas/common";
import { isoSeconds } from "../../src/time";
import { publicOrigin } from "../gateway/releases";
import type { AppContext, AppEnv } from "../middleware/request-context";
import { defineRoute } from "../openapi/define-route";
import { respond } from "../respond";

// Outpost has no Erlang cluster, no Netmaker and no WireGuard mesh: one deployment (one Worker and its
// database) is one admin, alone in its admin cluster, owning every edge cluster. The seed's shapes are
// kept; each route's description says how its fields map.

/** "Unlimited" where the seed wants an integer capacity: nothing in Outpost caps the fleet per admin. */
export const UNLIMITED = 2_147_483_647;

const ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz";

interface AdminIdentity {
  id: string;
  name: string;
  host: string;
  netmakerHostId: string;
}

/** Identity derived from SHA-256 of the public origin (PUBLIC_API_URL, else the request's origin). */
async function identity(c: AppContext): Promise<AdminIdentity> {
  const origin = publicOrigin(c);
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(origin)));
  const id = [...hash.slice(0, 12)].map((b) => ALPHABET[b % ALPHABET.length]).join("");
  const hex = [...hash.slice(12, 28)].map((b) => b.toString(16).padStart(2, "0")).join("");
  // RFC 9562 version 8 (custom) layout: a UUID-shaped stable id, not a Netmaker host.
  const uuid = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${((Number.parseInt(hex[16], 16) & 0x3) | 0x8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
  return { id, name: `admin-${id}`, host: new URL(origin).hostname, netmakerHostId: uuid };
}

function topologyEntry(me: AdminIdentity) {
  return {
    admin_peer_count: 0,
    edge_node_capacity: UNLIMITED,
    erlang_node_name: `admin@${me.host}`,
    max_wireguard_peers: UNLIMITED,
    name: me.name,
    netmaker_host_id: me.netmakerHostId,
    vpn_hostname: me.host,
  };
}

interface ClusterNodes {
  name: string;
  nodeIds: string[];
}

/** Every cluster (by name) with its node ids (oldest first). */
async function clusterNodes(db: Database): Promise<ClusterNodes[]> {
  const rows = await db.all<{ name: string; node_ids: string }>(sql`
    SELECT c.name AS name,
           coalesce((SELECT json_group_array(id) FROM (SELECT n.id FROM ${nodes} n WHERE n.cluster_id = c.id
                       ORDER BY n.inserted_at, n.id)), '[]') AS node_ids
      FROM ${clusters} c ORDER BY c.name`);
  return rows.map((r) => ({ name: r.name, nodeIds: JSON.parse(r.node_ids) as string[] }));
}

/**
 * The seed's sharding: clusters (by name) are assigned while the admin's capacity holds their
 * nodes; the rest are orphaned. With Outpost's unlimited capacity nothing is ever orphaned.
 */
export function assignClusters(all: ClusterNodes[], capacity = UNLIMITED) {
  const assigned: ClusterNodes[] = [];
  const orphaned: ClusterNodes[] = [];
  let used = 0;
  for (const cluster of all) {
    if (used + cluster.nodeIds.length <= capacity) {
      used += cluster.nodeIds.length;
      assigned.push(cluster);
    } else orphaned.push(cluster);
  }
  return { assigned, orphaned };
}

const asMap = (list: ClusterNodes[]) => Object.fromEntries(list.map((c) => [c.name, c.nodeIds]));

const str = (description: string) => v.pipe(v.string(), v.description(description));
const int = (description: string) => v.pipe(v.number(), v.integer(), v.description(description));
const count = (description: string) => v.pipe(v.number(), v.integer(), v.description(description));

const TopologyEntry = v.object({
  admin_peer_count: int("Admin-mesh peers: always 0 (one admin per deployment)"),
  edge_node_capacity: int(`Edge nodes this admin can own: ${UNLIMITED} means unlimited`),
  erlang_node_name: str("`admin@<public host>`: a stable name only; Outpost runs no Erlang distribution"),
  max_wireguard_peers: int(`No WireGuard peer budget in Outpost: ${UNLIMITED} (unlimited)`),
  name: str("Admin name, `admin-<id>`"),
  netmaker_host_id: str("UUID derived from the same hash as `id` (no Netmaker in Outpost)"),
  vpn_hostname: str("Host of the public origin agents connect to"),
});

const AdminSchema = v.pipe(
  v.object({
    ...TopologyEntry.entries,
    admin_cluster_name: str("Admin cluster name: the host of the public origin"),
    id: str("12 characters derived from SHA-256 of the public origin (PUBLIC_API_URL)"),
    last_computed_at: v.pipe(v.nullable(DateTimeOutput), v.description("Computed per request: now")),
  }),
  v.title("Admin"),
);

const MyAdminClusterSchema = v.pipe(
  v.object({
    degraded: v.pipe(v.boolean(), v.description("True when total_nodes exceeds total_edge_capacity")),
    name: str("Admin cluster name"),
    topology: v.array(TopologyEntry),
    total_admins: int("Always 1"),
    total_edge_capacity: int(`Sum of edge_node_capacity: ${UNLIMITED} (unlimited)`),
    total_nodes: int("Nodes registered across all clusters"),
    weak_leader: str("This admin's name (it is the only one)"),
  }),
  v.title("MyAdminCluster"),
);

const AdminClustersSchema = v.pipe(
  v.array(
    v.object({
      admin_count: int("Always 1"),
      admins: v.array(
        v.object({
          ipv4_address: v.pipe(v.nullable(v.string()), v.description("null: no admin network")),
          last_checked_in: v.pipe(v.nullable(DateTimeOutput), v.description("When this answer was computed")),
          name: str("Admin name"),
          netmaker_host_id: str("Derived UUID (no Netmaker)"),
          status: v.pipe(
            v.nullable(v.string()),
            v.description("`online`: the Worker and its database answer"),
          ),
          use_static_port: v.pipe(v.boolean(), v.description("false: no WireGuard")),
          vpn_hostname: str("Host of the public origin"),
          wireguard_ip_address: v.pipe(v.nullable(v.string()), v.description("null: no WireGuard")),
          wireguard_port: v.pipe(v.nullable(v.number()), v.description("null: no WireGuard")),
        }),
      ),
      ipv4_range: str("CLUSTER_IPV4_POOL, the pool edge cluster ranges are carved from"),
      name: str("Admin cluster name"),
    }),
  ),
  v.title("AdminClusters"),
);

const NodeIdsByCluster = v.record(v.string(), v.array(v.string()));

const section = (description: string, entries: v.ObjectEntries) =>
  v.pipe(v.object(entries), v.description(description));

const QueueSchema = v.object({
  queue: str("`command_executions`, `webhook_deliveries` or `self_update_requests`"),
  available: count("Ready to run (pending executions; pending deliveries due now; pending requests)"),
  scheduled: count("Waiting for a later time (deliveries awaiting their retry time)"),
  executing: count("In progress (sent executions; processing requests)"),
  retryable: count("Pending deliveries that already failed at least once"),
  completed: count("Completed (executions, succeeded deliveries, requests)"),
  cancelled: count("Cancelled executions"),
  discarded: count("Gave up (expired executions, failed deliveries)"),
});

// Seed sections about parts Outpost does not have: present, every field null.
const NOT_APPLICABLE: Record<string, { description: string; keys: string[] }> = {
  application: {
    description: "BEAM VM statistics: a Workers isolate has none",
    keys: [
      "atom_count",
      "ets_count",
      "memory_atom_bytes",
      "memory_atom_mb",
      "memory_binary_bytes",
      "memory_binary_mb",
      "memory_code_bytes",
      "memory_code_mb",
      "memory_ets_bytes",
      "memory_ets_mb",
      "memory_processes_bytes",
      "memory_processes_mb",
      "memory_total_bytes",
      "memory_total_mb",
      "port_count",
      "process_count",
      "uptime_human",
      "uptime_seconds",
    ],
  },
  discovery: {
    description: "Peer admin discovery: one admin, none",
    keys: ["dns_resolutions_total", "peer_connections_total", "scans_total"],
  },
  gateways: { description: "No gateways", keys: ["active_count", "connections_total", "scrapes_total"] },
  membership: {
    description: "No admin-cluster membership",
    keys: ["complete_total", "steps_completed_total"],
  },
  proxy: {
    description: "No forward proxy",
    keys: [
      "auth_failures_total",
      "bytes_down_mb",
      "bytes_down_total",
      "bytes_up_mb",
      "bytes_up_total",
      "connections_auth_failed_total",
      "connections_failure_total",
      "connections_success_total",
      "connections_total",
      "tunnels_closed_deadline_total",
      "tunnels_closed_drain_timeout_total",
      "tunnels_closed_normal_total",
      "tunnels_closed_total",
    ],
  },
  quantum: {
    description: "No Quantum scheduler (cron ticks)",
    keys: ["jobs_exceptions_total", "jobs_executed_total"],
  },
  reconciliation: { description: "No Netmaker to reconcile with", keys: ["errors", "total"] },
  ssh: {
    description: "SSH verifications are not counted",
    keys: ["verifications_failed", "verifications_total"],
  },
  vpn: { description: "No VPN", keys: ["zombie_cleanup_deleted_count", "zombie_cleanup_total"] },
};

const notApplicableSchemas = Object.fromEntries(
  Object.entries(NOT_APPLICABLE).map(([name, { description, keys }]) => [
    name,
    section(
      `Not applicable to Outpost (${description}): every field is null`,
      Object.fromEntries(keys.map((k) => [k, v.null()])),
    ),
  ]),
);

const notApplicableValues = Object.fromEntries(
  Object.entries(NOT_APPLICABLE).map(([name, { keys }]) => [
    name,
    Object.fromEntries(keys.map((k) => [k, null])),
  ]),
);

const MetricsSchema = v.pipe(
  v.object({
    ...notApplicableSchemas,
    commands: section("Command executions currently stored (finished ones are pruned after retention)", {
      delivery_delivered_count: v.pipe(v.null(), v.description("No delivery batch runs")),
      delivery_total: v.pipe(v.null(), v.description("No delivery batch runs")),
      execution_completed_total: count("Executions completed"),
      execution_delivered_total: count("Executions handed to their agent (sent_at set)"),
      expiration_total: count("Executions expired"),
      executions_by_status: v.pipe(
        v.record(v.string(), v.number()),
        v.description("Outpost extension: executions per status (every status present)"),
      ),
    }),
    database: section("Outpost extension: the libSQL database", {
      latency_ms: count("Round trip of `SELECT 1`, milliseconds"),
    }),
    event_broker: section("No message broker: disabled, counters 0", {
      enabled: v.boolean(),
      enqueues_total: count("0"),
      publishes_error_total: count("0"),
      publishes_ok_total: count("0"),
      publishes_total: count("0"),
    }),
    events: section("Outpost extension: the event outbox", {
      total: count("Events stored"),
      backlog: count("Events not yet fanned out to webhooks"),
    }),
    metadata: section("Cluster assignment", {
      assigned_clusters: count("Clusters assigned to this admin (all of them)"),
      degraded: v.boolean(),
      orphaned_clusters: count("Always 0 (unlimited capacity)"),
      recomputations_total: v.pipe(v.null(), v.description("Computed per request")),
    }),
    nodes: section("Nodes", {
      health_checks_total: v.pipe(v.null(), v.description("Heartbeats are counted per node, not fleet-wide")),
      total: count("Outpost extension: nodes registered"),
      by_status: v.pipe(
        v.object({ healthy: v.number(), unhealthy: v.number(), unreachable: v.number() }),
        v.description("Outpost extension: nodes per status"),
      ),
    }),
    oban_queues: v.pipe(
      v.array(QueueSchema),
      v.description("Outpost's durable work tables, in Oban's terms"),
    ),
    self_updates: section("Self-update requests", {
      completed_total: count("Requests completed"),
      pending: count("Outpost extension: requests pending"),
      processing: count("Outpost extension: requests processing"),
    }),
    timestamp: DateTimeOutput,
    webhook: section("Webhook deliveries (attempts recorded in webhook_delivery_attempts)", {
      deliveries_ok_total: count("Attempts answered 2xx"),
      deliveries_recoverable_total: count("Failed attempts that were (or will be) retried"),
      deliveries_terminal_total: count("Deliveries given up (`failed`)"),
      deliveries_total: count("All attempts"),
      fan_outs_total: count("Events fanned out to webhooks"),
    }),
  }),
  v.title("AdminMetrics"),
);

/** Fleet counts in one round trip (scalar subqueries), after timing a `SELECT 1`. */
async function collectMetrics(db: Database): Promise<Record<string, number>> {
  const began = Date.now();
  await db.run(sql`SELECT 1`);
  const latency = Date.now() - began;
  const now = Date.now();
  const ce = commandExecutions;
  const d = webhookDeliveries;
  const [row] = await db.all<Record<string, number>>(sql`SELECT
    (SELECT count(*) FROM ${nodes}) AS nodes_total,
    (SELECT count(*) FROM ${nodes} WHERE status = 'healthy') AS nodes_healthy,
    (SELECT count(*) FROM ${nodes} WHERE status = 'unhealthy') AS nodes_unhealthy,
    (SELECT count(*) FROM ${nodes} WHERE status = 'unreachable') AS nodes_unreachable,
    (SELECT count(*) FROM ${clusters}) AS clusters_total,
    (SELECT count(*) FROM ${ce} WHERE status = 'pending') AS ex_pending,
    (SELECT count(*) FROM ${ce} WHERE status = 'sent') AS ex_sent,
    (SELECT count(*) FROM ${ce} WHERE status = 'completed') AS ex_completed,
    (SELECT count(*) FROM ${ce} WHERE status = 'cancelled') AS ex_cancelled,
    (SELECT count(*) FROM ${ce} WHERE status = 'expired') AS ex_expired,
    (SELECT count(*) FROM ${ce} WHERE sent_at IS NOT NULL) AS ex_delivered,
    (SELECT count(*) FROM ${events}) AS events_total,
    (SELECT count(*) FROM ${events} WHERE fanned_out_at IS NULL) AS events_backlog,
    (SELECT count(*) FROM ${webhookDeliveryAttempts}) AS attempts_total,
    (SELECT count(*) FROM ${webhookDeliveryAttempts} WHERE status_code BETWEEN 200 AND 299) AS attempts_ok,
    (SELECT count(*) FROM ${d} WHERE status = 'failed') AS deliveries_failed,
    (SELECT count(*) FROM ${d} WHERE status = 'succeeded') AS deliveries_succeeded,
    (SELECT count(*) FROM ${d} WHERE status = 'pending' AND coalesce(next_attempt_at, 0) <= ${now}) AS deliveries_due,
    (SELECT count(*) FROM ${d} WHERE status = 'pending' AND next_attempt_at > ${now}) AS deliveries_scheduled,
    (SELECT count(*) FROM ${d} WHERE status = 'pending' AND attempts > 0) AS deliveries_retryable,
    (SELECT count(*) FROM ${selfUpdateRequests} WHERE status = 'pending') AS su_pending,
    (SELECT count(*) FROM ${selfUpdateRequests} WHERE status = 'processing') AS su_processing,
    (SELECT count(*) FROM ${selfUpdateRequests} WHERE status = 'completed') AS su_completed`);
  const counts: Record<string, number> = { ...row, latency, now };
  return counts;
}

/** Registers `/api/v1/admins/*` (seed: Admins.Metadata, Admins.Metrics). */
export function registerAdminRoutes(app: Hono<AppEnv>): void {
  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/admins/me",
      tag: "Admins.Metadata",
      summary: "Get the current admin",
      description: `This deployment is the admin. \`id\` is 12 characters derived from SHA-256 of the public origin (PUBLIC_API_URL; without it, the request's origin, so set it for a stable identity); \`name\` is \`admin-<id>\`; \`admin_cluster_name\` and \`vpn_hostname\` are the origin's host; \`netmaker_host_id\` is a UUID from the same hash and \`erlang_node_name\` is \`admin@<host>\` (Outpost has neither Netmaker nor Erlang). No WireGuard peer budget caps the fleet: \`max_wireguard_peers\` and \`edge_node_capacity\` are ${UNLIMITED} (unlimited), \`admin_peer_count\` is 0. \`last_computed_at\` is now: nothing is cached.`,
      success: { status: 200, description: "Single admin identity response", data: AdminSchema },
    },
    async (c) => {
      const me = await identity(c);
      return respond(c, {
        admin_cluster_name: me.host,
        ...topologyEntry(me),
        id: me.id,
        last_computed_at: isoSeconds(Date.now()),
      });
    },
  );

  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/admins/my_admin_cluster",
      tag: "Admins.Metadata",
      summary: "Get this admin's admin cluster",
      description: `The admin cluster is this deployment alone: one topology entry (see \`GET /admins/me\`), \`total_admins\` 1, \`weak_leader\` this admin. \`total_nodes\` counts every registered node; \`degraded\` is true only when it exceeds \`total_edge_capacity\` (${UNLIMITED}, unlimited).`,
      success: {
        status: 200,
        description: "Topology and state of the admin cluster this admin belongs to",
        data: MyAdminClusterSchema,
      },
      errors: [503],
    },
    async (c) => {
      const me = await identity(c);
      const [{ total }] = await c
        .get("db")
        .all<{ total: number }>(sql`SELECT count(*) AS total FROM ${nodes}`);
      return respond(c, {
        degraded: total > UNLIMITED,
        name: me.host,
        topology: [topologyEntry(me)],
        total_admins: 1,
        total_edge_capacity: UNLIMITED,
        total_nodes: total,
        weak_leader: me.name,
      });
    },
  );

  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/admins/admin_clusters",
      tag: "Admins.Metadata",
      summary: "List all admin clusters",
      description:
        "One admin cluster (this deployment) with one admin. The admin is `online` when its database answers; when it does not, 503. There is no admin network: `ipv4_address`, `wireguard_ip_address` and `wireguard_port` are null, `use_static_port` false; `ipv4_range` is CLUSTER_IPV4_POOL, the pool edge cluster ranges come from; `last_checked_in` is now.",
      success: { status: 200, description: "All admin clusters", data: AdminClustersSchema },
      errors: [503],
    },
    async (c) => {
      const me = await identity(c);
      await c.get("db").run(sql`SELECT 1`);
      return respond(c, [
        {
          admin_count: 1,
          admins: [
            {
              ipv4_address: null,
              last_checked_in: isoSeconds(Date.now()),
              name: me.name,
              netmaker_host_id: me.netmakerHostId,
              status: "online",
              use_static_port: false,
              vpn_hostname: me.host,
              wireguard_ip_address: null,
              wireguard_port: null,
            },
          ],
          ipv4_range: c.get("config").clusterIpv4Pool,
          name: me.host,
        },
      ]);
    },
  );

  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/admins/edge_clusters",
      tag: "Admins.Metadata",
      summary: "Get all edge cluster assignments",
      description:
        "`{admin name: {cluster name: [node ids]}}`. Edge clusters are Outpost's clusters (every one, empty ones too, by name; node ids oldest first), all assigned to this deployment's admin.",
      success: {
        status: 200,
        description: "All edge cluster assignments across all admins",
        data: v.pipe(v.record(v.string(), NodeIdsByCluster), v.title("EdgeClusters")),
      },
      errors: [503],
    },
    async (c) => {
      const [me, all] = await Promise.all([identity(c), clusterNodes(c.get("db"))]);
      return respond(c, { [me.name]: asMap(assignClusters(all).assigned) });
    },
  );

  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/admins/orphaned_clusters",
      tag: "Admins.Metadata",
      summary: "Get all orphaned clusters",
      description: `Clusters no admin could take for lack of capacity, as \`{cluster name: [node ids]}\`. This admin's capacity is unlimited (${UNLIMITED}), so the map is always empty; it is still computed from the clusters, so it answers 503 when the database is unreachable.`,
      success: {
        status: 200,
        description: "Clusters with no assigned admin instance",
        data: v.pipe(NodeIdsByCluster, v.title("OrphanedClusters")),
      },
      errors: [503],
    },
    async (c) => respond(c, asMap(assignClusters(await clusterNodes(c.get("db"))).orphaned)),
  );

  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/admins/me/metrics",
      tag: "Admins.Metrics",
      summary: "Get metrics for this admin",
      description:
        "Fleet counts from the database, computed per request, in the seed's sections: `nodes` (plus `total` and `by_status`), `commands` (executions stored now; finished ones are pruned after EXECUTION_RETENTION_DAYS; plus `executions_by_status`), `webhook` (attempts and deliveries), `self_updates`, `metadata` (cluster assignment), `oban_queues` (Outpost's work tables — command_executions, webhook_deliveries, self_update_requests — in Oban's states). Outpost extensions: `events` (outbox size and fan-out backlog) and `database` (`SELECT 1` latency). `event_broker` is disabled with zero counters (no broker). Sections that describe parts Outpost does not have (BEAM `application`, `discovery`, `gateways`, `membership`, `proxy`, `quantum`, `reconciliation`, `ssh`, `vpn`) are present with null fields. 503 when the database is unreachable.",
      success: { status: 200, description: "Application-level metrics", data: MetricsSchema },
      errors: [503],
    },
    async (c) => {
      const m = await collectMetrics(c.get("db"));
      return respond(c, {
        ...notApplicableValues,
        commands: {
          delivery_delivered_count: null,
          delivery_total: null,
          execution_completed_total: m.ex_completed,
          execution_delivered_total: m.ex_delivered,
          expiration_total: m.ex_expired,
          executions_by_status: {
            pending: m.ex_pending,
            sent: m.ex_sent,
            completed: m.ex_completed,
            cancelled: m.ex_cancelled,
            expired: m.ex_expired,
          },
        },
        database: { latency_ms: m.latency },
        event_broker: {
          enabled: false,
          enqueues_total: 0,
          publishes_error_total: 0,
          publishes_ok_total: 0,
          publishes_total: 0,
        },
        events: { total: m.events_total, backlog: m.events_backlog },
        metadata: {
          assigned_clusters: m.clusters_total,
          degraded: m.nodes_total > UNLIMITED,
          orphaned_clusters: 0,
          recomputations_total: null,
        },
        nodes: {
          health_checks_total: null,
          total: m.nodes_total,
          by_status: {
            healthy: m.nodes_healthy,
            unhealthy: m.nodes_unhealthy,
            unreachable: m.nodes_unreachable,
          },
        },
        oban_queues: [
          {
            queue: "command_executions",
            available: m.ex_pending,
            scheduled: 0,
            executing: m.ex_sent,
            retryable: 0,
            completed: m.ex_completed,
            cancelled: m.ex_cancelled,
            discarded: m.ex_expired,
          },
          {
            queue: "webhook_deliveries",
            available: m.deliveries_due,
            scheduled: m.deliveries_scheduled,
            executing: 0,
            retryable: m.deliveries_retryable,
            completed: m.deliveries_succeeded,
            cancelled: 0,
            discarded: m.deliveries_failed,
          },
          {
            queue: "self_update_requests",
            available: m.su_pending,
            scheduled: 0,
            executing: m.su_processing,
            retryable: 0,
            completed: m.su_completed,
            cancelled: 0,
            discarded: 0,
          },
        ],
        self_updates: { completed_total: m.su_completed, pending: m.su_pending, processing: m.su_processing },
        timestamp: new Date(m.now).toISOString().replace(/\.\d{3}Z$/, "Z"),
        webhook: {
          deliveries_ok_total: m.attempts_ok,
          deliveries_recoverable_total: Math.max(0, m.attempts_total - m.attempts_ok - m.deliveries_failed),
          deliveries_terminal_total: m.deliveries_failed,
          deliveries_total: m.attempts_total,
          fan_outs_total: m.events_total - m.events_backlog,
        },
      });
    },
  );
}
