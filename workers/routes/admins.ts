import { sql } from "drizzle-orm";
import type { Hono } from "hono";
import * as v from "valibot";
import { asMap, assignClusters, clusterNodes } from "../../src/admins/cluster-assignment";
import { UNLIMITED } from "../../src/admins/limits";
import { collectMetrics, shapeMetrics } from "../../src/admins/metrics";
import {
  AdminClustersSchema,
  AdminSchema,
  MetricsSchema,
  MyAdminClusterSchema,
  NodeIdsByCluster,
} from "../../src/admins/schema";
import { nodes } from "../../src/db/schema";
import { isoSeconds } from "../../src/time";
import type { AppEnv } from "../middleware/request-context";
import { defineRoute } from "../openapi/define-route";
import { identity, topologyEntry } from "../services/admin-identity";

// Outpost has no Erlang cluster, no Netmaker and no WireGuard mesh: one deployment (one Worker and its
// database) is one admin, alone in its admin cluster, owning every edge cluster. The contract's shapes are
// kept; each route's description says how its fields map.

/** Registers `/api/v1/admins/*` (the Edge Admin contract: Admins.Metadata, Admins.Metrics). */
export function registerAdminRoutes(app: Hono<AppEnv>): void {
  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/admins/me",
      permission: "admins:read",
      tag: "Admins.Metadata",
      summary: "Get the current admin",
      description: `This deployment is the admin. \`id\` is 12 characters derived from SHA-256 of the public origin (PUBLIC_API_URL; without it, the request's origin, so set it for a stable identity); \`name\` is \`admin-<id>\`; \`admin_cluster_name\` and \`vpn_hostname\` are the origin's host; \`netmaker_host_id\` is a UUID from the same hash and \`erlang_node_name\` is \`admin@<host>\` (Outpost has neither Netmaker nor Erlang). No WireGuard peer budget caps the fleet: \`max_wireguard_peers\` and \`edge_node_capacity\` are ${UNLIMITED} (unlimited), \`admin_peer_count\` is 0. \`last_computed_at\` is now: nothing is cached.`,
      success: { status: 200, description: "Single admin identity response", data: AdminSchema },
    },
    async (c) => {
      const me = await identity(c);
      return {
        data: {
          admin_cluster_name: me.host,
          ...topologyEntry(me),
          id: me.id,
          last_computed_at: isoSeconds(Date.now()),
        },
      };
    },
  );

  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/admins/my_admin_cluster",
      permission: "admins:read",
      clusterScope: { refuse: true },
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
      return {
        data: {
          degraded: total > UNLIMITED,
          name: me.host,
          topology: [topologyEntry(me)],
          total_admins: 1,
          total_edge_capacity: UNLIMITED,
          total_nodes: total,
          weak_leader: me.name,
        },
      };
    },
  );

  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/admins/admin_clusters",
      permission: "admins:read",
      clusterScope: { refuse: true },
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
      return {
        data: [
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
        ],
      };
    },
  );

  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/admins/edge_clusters",
      permission: "admins:read",
      clusterScope: { refuse: true },
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
      return { data: { [me.name]: asMap(assignClusters(all).assigned) } };
    },
  );

  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/admins/orphaned_clusters",
      permission: "admins:read",
      clusterScope: { refuse: true },
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
    async (c) => ({ data: asMap(assignClusters(await clusterNodes(c.get("db"))).orphaned) }),
  );

  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/admins/me/metrics",
      permission: "admins:read",
      clusterScope: { refuse: true },
      tag: "Admins.Metrics",
      summary: "Get metrics for this admin",
      description:
        "Fleet counts from the database, computed per request, in the contract's sections: `nodes` (plus `total` and `by_status`), `commands` (executions stored now; finished ones are pruned after EXECUTION_RETENTION_DAYS; plus `executions_by_status`), `webhook` (attempts and deliveries), `self_updates`, `metadata` (cluster assignment), `oban_queues` (Outpost's work tables — command_executions, webhook_deliveries, self_update_requests — in Oban's states). Outpost extensions: `events` (outbox size and fan-out backlog) and `database` (`SELECT 1` latency). `event_broker` is disabled with zero counters (no broker). Sections that describe parts Outpost does not have (BEAM `application`, `discovery`, `gateways`, `membership`, `proxy`, `quantum`, `reconciliation`, `ssh`, `vpn`) are present with null fields. 503 when the database is unreachable.",
      success: { status: 200, description: "Application-level metrics", data: MetricsSchema },
      errors: [503],
    },
    async (c) => ({ data: shapeMetrics(await collectMetrics(c.get("db"))) }),
  );
}
