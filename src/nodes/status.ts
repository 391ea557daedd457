import { sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { clusters, nodes } from "../db/schema";
import { recordEventWhere } from "../events/outbox";

export type NodeStatus = "healthy" | "unhealthy" | "unreachable";

/**
 * Moves a node to `to` and records `edge.node.status_changed` in the same
 * batch. Both statements are conditional on the status really changing, so
 * concurrent writers (the DO, the cron) produce one event per real change.
 * Returns whether it changed.
 */
export async function setNodeStatus(
  db: Database,
  nodeId: string,
  to: NodeStatus,
  reason: string,
  extra: { lastSeenAt?: number } = {},
): Promise<boolean> {
  const [, update] = await db.batch(nodeStatusStatements(db, nodeId, to, reason, Date.now(), extra));
  return (update as { rowsAffected: number }).rowsAffected > 0;
}

/** The two statements of `setNodeStatus`, for a caller's own batch (event first, then the update). */
export function nodeStatusStatements(
  db: Database,
  nodeId: string,
  to: NodeStatus,
  reason: string,
  now: number,
  extra: { lastSeenAt?: number } = {},
) {
  return [
    recordEventWhere(
      db,
      "edge.node.status_changed",
      sql`json_object('node_id', n.id, 'cluster_name', c.name, 'from', n.status, 'to', ${to}, 'reason', ${reason})`,
      sql`FROM ${nodes} n JOIN ${clusters} c ON c.id = n.cluster_id WHERE n.id = ${nodeId} AND n.status != ${to}`,
      now,
    ),
    db.run(
      sql`UPDATE ${nodes} SET status = ${to}, updated_at = ${now}, last_seen_at = coalesce(${extra.lastSeenAt ?? null}, last_seen_at)
          WHERE id = ${nodeId} AND status != ${to}`,
    ),
  ] as const;
}

/** One node's status change, as the grouped write (`setNodeStatuses`) takes it. */
export interface StatusChange {
  nodeId: string;
  to: NodeStatus;
  reason: string;
  /** The agent was heard from at this time (written to `last_seen_at` with the change). */
  lastSeenAt?: number;
}

/**
 * `setNodeStatus` for many nodes in one batch of two set-based statements (the events, then the
 * update), whatever their number: when a network cut takes a thousand nodes away at once, their
 * sessions' changes are written together instead of a thousand round trips queueing on the write
 * lock past the stale window. Conditional like `setNodeStatus`, so repeating it changes nothing;
 * returns whether each change was applied (for a node listed twice, its last change counts).
 */
export async function setNodeStatuses(db: Database, changes: StatusChange[]): Promise<boolean[]> {
  if (changes.length === 0) return [];
  const last = new Map<string, StatusChange>();
  for (const change of changes) last.set(change.nodeId, change);
  const rowsJson = JSON.stringify(
    [...last.values()].map((c) => [c.nodeId, c.to, c.reason, c.lastSeenAt ?? null]),
  );
  const wanted = sql`(SELECT json_extract(value, '$[0]') AS id, json_extract(value, '$[1]') AS status,
                             json_extract(value, '$[2]') AS reason, json_extract(value, '$[3]') AS seen
                        FROM json_each(${rowsJson}))`;
  const now = Date.now();
  const [, updated] = await db.batch([
    recordEventWhere(
      db,
      "edge.node.status_changed",
      sql`json_object('node_id', n.id, 'cluster_name', c.name, 'from', n.status, 'to', t.status, 'reason', t.reason)`,
      sql`FROM ${wanted} AS t JOIN ${nodes} n ON n.id = t.id JOIN ${clusters} c ON c.id = n.cluster_id
          WHERE n.status != t.status`,
      now,
    ),
    db.all<{ id: string }>(sql`UPDATE ${nodes} AS n
           SET status = t.status, updated_at = ${now}, last_seen_at = coalesce(t.seen, n.last_seen_at)
          FROM ${wanted} AS t WHERE n.id = t.id AND n.status != t.status RETURNING id`),
  ]);
  const changed = new Set((updated as { id: string }[]).map((r) => r.id));
  return changes.map((c) => last.get(c.nodeId) === c && changed.has(c.nodeId));
}

/** A node heard from at `at` (for `touchLastSeen`), with its latest metrics when they are due. */
export interface LastSeen {
  nodeId: string;
  at: number;
  metrics?: LatestMetrics;
}

/** The latest metrics the node list filters and sorts on (columns of `nodes`). */
export interface LatestMetrics {
  at: number;
  cpu_usage_percent: number;
  memory_usage_percent: number;
  disk_usage_percent: number | null;
  load_1m: number;
}

/**
 * Refreshes `last_seen_at` of many nodes in one statement, never moving it back, and returns each
 * node's stored status (null for a node that no longer exists), so a session can put right a status
 * the cron changed meanwhile.
 */
export async function touchLastSeen(db: Database, seen: LastSeen[]): Promise<(NodeStatus | null)[]> {
  if (seen.length === 0) return [];
  const latest = new Map<string, { at: number; metrics?: LatestMetrics }>();
  for (const s of seen) {
    const before = latest.get(s.nodeId);
    const metrics =
      s.metrics && (!before?.metrics || s.metrics.at > before.metrics.at) ? s.metrics : before?.metrics;
    latest.set(s.nodeId, { at: Math.max(before?.at ?? 0, s.at), metrics });
  }
  const rowsJson = [...latest].map(([id, { at, metrics: m }]) =>
    m
      ? [id, at, m.at, m.cpu_usage_percent, m.memory_usage_percent, m.disk_usage_percent, m.load_1m]
      : [id, at],
  );
  // The latest metrics ride along with the refresh (no write of their own); a row without them
  // keeps the stored ones, and an older sample never replaces a newer one.
  const rows = await db.all<{ id: string; status: NodeStatus }>(sql`
    UPDATE ${nodes} AS n SET last_seen_at = max(coalesce(n.last_seen_at, 0), t.at),
           cpu_usage_percent = iif(t.m_at > coalesce(n.metrics_at, 0), t.cpu, n.cpu_usage_percent),
           memory_usage_percent = iif(t.m_at > coalesce(n.metrics_at, 0), t.mem, n.memory_usage_percent),
           disk_usage_percent = iif(t.m_at > coalesce(n.metrics_at, 0), t.disk, n.disk_usage_percent),
           load_1m = iif(t.m_at > coalesce(n.metrics_at, 0), t.load, n.load_1m),
           metrics_at = iif(t.m_at > coalesce(n.metrics_at, 0), t.m_at, n.metrics_at)
      FROM (SELECT json_extract(value, '$[0]') AS id, json_extract(value, '$[1]') AS at,
                   json_extract(value, '$[2]') AS m_at, json_extract(value, '$[3]') AS cpu,
                   json_extract(value, '$[4]') AS mem, json_extract(value, '$[5]') AS disk,
                   json_extract(value, '$[6]') AS load
              FROM json_each(${JSON.stringify(rowsJson)})) AS t
     WHERE n.id = t.id RETURNING id, status`);
  const status = new Map(rows.map((r) => [r.id, r.status]));
  return seen.map((s) => status.get(s.nodeId) ?? null);
}

/**
 * The cron's safety net: every node not already `unreachable` whose
 * `last_seen_at` is older than `cutoff` becomes `unreachable`, with one event
 * each, in one set-based batch (no per-node round trips).
 */
export async function markStaleNodesUnreachable(db: Database, cutoff: number): Promise<number> {
  const now = Date.now();
  const stale = sql`n.status != 'unreachable' AND coalesce(n.last_seen_at, n.inserted_at) < ${cutoff}`;
  const [, update] = await db.batch([
    recordEventWhere(
      db,
      "edge.node.status_changed",
      sql`json_object('node_id', n.id, 'cluster_name', c.name, 'from', n.status, 'to', 'unreachable', 'reason', 'no heartbeat recorded (cron)')`,
      sql`FROM ${nodes} n JOIN ${clusters} c ON c.id = n.cluster_id WHERE ${stale}`,
      now,
    ),
    db.run(sql`UPDATE ${nodes} AS n SET status = 'unreachable', updated_at = ${now} WHERE ${stale}`),
  ]);
  return (update as { rowsAffected: number }).rowsAffected;
}
