import { and, count, eq, lt, ne, type SQL, sql } from "drizzle-orm";
import { clusterIdInScope } from "../access/cluster-scope";
import type { Database } from "../db/client";
import { clusters, nodeRegistrations } from "../db/schema";
import { ApiError } from "../errors";
import { recordEvent } from "../events/outbox";
import type { ListQuery } from "../list-query/engine";
import { listPage, type Page } from "../list-query/page";
import { nodeRegistrationListSpec } from "./list";
import { REGISTRATION_TTL_MS } from "./schema";

export type NodeRegistrationRow = typeof nodeRegistrations.$inferSelect & { clusterName: string };

const r = nodeRegistrations;
const withCluster = {
  id: r.id,
  clusterId: r.clusterId,
  enrollmentKeyId: r.enrollmentKeyId,
  proposedNodeId: r.proposedNodeId,
  idType: r.idType,
  hostname: r.hostname,
  platform: r.platform,
  arch: r.arch,
  agentVersion: r.agentVersion,
  ip: r.ip,
  status: r.status,
  pollSecretHash: r.pollSecretHash,
  apiTokenCiphertext: r.apiTokenCiphertext,
  decidedBy: r.decidedBy,
  decidedAt: r.decidedAt,
  insertedAt: r.insertedAt,
  updatedAt: r.updatedAt,
  clusterName: clusters.name,
};

/** Loads one registration with its cluster's name, or throws 404 (inside a transaction too). */
export async function getRegistration(
  db: Pick<Database, "select">,
  id: string,
): Promise<NodeRegistrationRow> {
  const [row] = await db
    .select(withCluster)
    .from(r)
    .innerJoin(clusters, eq(clusters.id, r.clusterId))
    .where(eq(r.id, id.toLowerCase()))
    .limit(1);
  if (!row) throw new ApiError("not_found", "Node registration not found");
  return row;
}

/** One page of registrations by `nodeRegistrationListSpec`. */
export function listRegistrations(db: Database, q: ListQuery): Promise<Page<NodeRegistrationRow>> {
  const joined = eq(clusters.id, r.clusterId);
  return listPage(
    db,
    q,
    db.select(withCluster).from(r).innerJoin(clusters, joined),
    db.select({ total: count() }).from(r).innerJoin(clusters, joined),
  );
}

/** The 409 for a decision on a registration that is not pending any more. */
export function notPending(row: { status: string }): ApiError {
  return new ApiError("conflict", `Node registration is ${row.status}; only a pending one can be decided`);
}

/** The payload every registration event carries. */
export function registrationEventData(row: NodeRegistrationRow, clusterName = row.clusterName) {
  return {
    registration_id: row.id,
    node_id: row.proposedNodeId,
    cluster_name: clusterName,
    hostname: row.hostname,
  };
}

/**
 * Rejects a pending registration; its agent learns it at its next poll and stops. The conditional
 * update and the event commit together, so a race with an approval has one winner.
 * @throws ApiError 404 | 409 (not pending)
 */
export async function rejectRegistration(
  db: Database,
  id: string,
  decidedBy: string,
): Promise<NodeRegistrationRow> {
  return db.transaction(async (tx) => {
    const row = await getRegistration(tx, id);
    const now = Date.now();
    const [changed] = await tx
      .update(r)
      .set({ status: "rejected", decidedBy, decidedAt: now, updatedAt: now })
      .where(and(eq(r.id, row.id), eq(r.status, "pending")))
      .returning({ id: r.id });
    if (!changed) throw notPending(row);
    await recordEvent(
      tx,
      "edge.node_registration.rejected",
      { ...registrationEventData(row), decided_by: decidedBy },
      now,
    );
    return getRegistration(tx, id);
  });
}

/**
 * Expires registrations pending for longer than 7 days (with an event each) and deletes decided ones
 * older than `retentionDays`. Returns how many of each.
 */
export async function expireAndPruneRegistrations(
  db: Database,
  retentionDays: number,
  now = Date.now(),
): Promise<{ expired: number; pruned: number }> {
  const expired = await db.transaction(async (tx) => {
    const stale = await tx
      .select(withCluster)
      .from(r)
      .innerJoin(clusters, eq(clusters.id, r.clusterId))
      .where(and(eq(r.status, "pending"), lt(r.insertedAt, now - REGISTRATION_TTL_MS)))
      .limit(500);
    for (const row of stale) {
      await tx
        .update(r)
        .set({ status: "expired", updatedAt: now })
        .where(and(eq(r.id, row.id), eq(r.status, "pending")));
      await recordEvent(tx, "edge.node_registration.expired", registrationEventData(row), now);
    }
    return stale.length;
  });
  const pruned = await db
    .delete(r)
    .where(and(ne(r.status, "pending"), lt(r.updatedAt, now - retentionDays * 86_400_000)))
    .returning({ id: r.id });
  return { expired, pruned: pruned.length };
}

/**
 * Registrations waiting for a decision (the fleet summary's `pending_approval`), narrowed like the
 * summary's nodes by a `cluster_name` filter (exact or wildcard) and a principal's cluster scope.
 */
export async function countPendingRegistrations(
  db: Database,
  narrow: { clusterName?: string; scope?: readonly string[] | null } = {},
): Promise<number> {
  const conditions: SQL[] = [sql`${r.status} = 'pending'`];
  const filter = nodeRegistrationListSpec.filters.cluster_name;
  const parsed = narrow.clusterName === undefined ? undefined : filter.parse(narrow.clusterName);
  if (parsed && "value" in parsed) conditions.push(await filter.toSql(parsed.value));
  if (narrow.scope) conditions.push(clusterIdInScope(sql`${r.clusterId}`, narrow.scope));
  const [row] = await db
    .select({ n: count() })
    .from(r)
    .innerJoin(clusters, eq(clusters.id, r.clusterId))
    .where(and(...conditions));
  return row?.n ?? 0;
}
