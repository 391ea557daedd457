import { count, eq, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { clusters, nodes, nodeUpdates } from "../db/schema";
import type { ListQuery, ListSpec } from "../list-query/engine";
import { countPendingRegistrations } from "../node-registrations/store";
import { nodeListSpec } from "../nodes/list";
import { isoSeconds } from "../time";
import type { FleetSummary, UpdatesSummary } from "./schema";

/** The node list's filters without sorting: what the summaries accept. */
export const nodeFilterSpec: ListSpec = {
  filters: nodeListSpec.filters,
  sortable: {},
  defaultOrder: [],
  tieBreaker: sql`${nodes.id}`,
};

const now = () => isoSeconds(Date.now());

function add(counts: Record<string, number>, key: string, n: number) {
  counts[key] = (counts[key] ?? 0) + n;
}

/**
 * The fleet summary from one grouped query (status × version × platform × cluster over the filtered
 * nodes); the per-dimension counts are folded from its rows.
 */
export async function fleetSummary(
  db: Database,
  q: ListQuery,
  pendingNarrow: Parameters<typeof countPendingRegistrations>[1] = {},
): Promise<FleetSummary> {
  const rows = await db
    .select({
      status: nodes.status,
      version: nodes.version,
      platform: nodes.platform,
      cluster: clusters.name,
      n: count(),
    })
    .from(nodes)
    .innerJoin(clusters, eq(clusters.id, nodes.clusterId))
    .where(q.where)
    .groupBy(nodes.status, nodes.version, nodes.platform, clusters.name);
  const byStatus = { healthy: 0, unhealthy: 0, unreachable: 0 };
  const byVersion: Record<string, number> = {};
  const byPlatform: Record<string, number> = {};
  const byCluster: Record<string, number> = {};
  let total = 0;
  for (const r of rows) {
    total += r.n;
    byStatus[r.status] += r.n;
    add(byVersion, r.version ?? "unknown", r.n);
    add(byPlatform, r.platform ?? "unknown", r.n);
    add(byCluster, r.cluster, r.n);
  }
  return {
    total,
    by_status: byStatus,
    online: byStatus.healthy + byStatus.unhealthy,
    offline: byStatus.unreachable,
    with_errors: byStatus.unhealthy,
    pending_approval: await countPendingRegistrations(db, pendingNarrow),
    by_version: byVersion,
    by_platform: byPlatform,
    by_cluster: byCluster,
    computed_at: now(),
  };
}

/** Pending updates over the filtered nodes, in one query (nodes that never reported count as reporting nothing). */
export async function updatesSummary(db: Database, q: ListQuery): Promise<UpdatesSummary> {
  const u = nodeUpdates;
  const [row] = await db
    .select({
      nodes: count(),
      reporting: sql<number>`count(${u.nodeId})`,
      withUpdates: sql<number>`coalesce(sum(${u.pendingCount} > 0), 0)`,
      withSecurity: sql<number>`coalesce(sum(${u.securityCount} > 0), 0)`,
      pending: sql<number>`coalesce(sum(${u.pendingCount}), 0)`,
      security: sql<number>`coalesce(sum(${u.securityCount}), 0)`,
      reboot: sql<number>`coalesce(sum(${u.rebootRequired}), 0)`,
    })
    .from(nodes)
    .innerJoin(clusters, eq(clusters.id, nodes.clusterId))
    .leftJoin(u, eq(u.nodeId, nodes.id))
    .where(q.where);
  const n = (x: unknown) => Number(x ?? 0);
  return {
    nodes: n(row?.nodes),
    nodes_reporting: n(row?.reporting),
    nodes_with_updates: n(row?.withUpdates),
    nodes_with_security_updates: n(row?.withSecurity),
    pending_updates: n(row?.pending),
    security_updates: n(row?.security),
    reboot_required: n(row?.reboot),
    computed_at: now(),
  };
}
