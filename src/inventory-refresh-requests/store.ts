import { count, eq, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { inventoryRefreshRequests as irr, inventoryRefreshTargets as irt, nodes } from "../db/schema";
import { ApiError } from "../errors";
import type { ListQuery } from "../list-query/engine";
import { listPage, type Page } from "../list-query/page";
import type { InventorySection } from "../protocol/inventory-sections";

export type RefreshRequestRow = typeof irr.$inferSelect;

/** Where the targets of some requests stand: request id → counts per target status. */
export type TargetCounts = Map<
  string,
  { queued: number; requested: number; answered: number; offline: number; unsupported: number }
>;

/** A node unreachable for longer than this is counted offline without asking its session. */
export const OFFLINE_WITHOUT_ASKING_MS = 120_000;

/**
 * Creates a request and one `queued` target row per node, in one batch; in the same batch, nodes
 * unreachable for over `OFFLINE_WITHOUT_ASKING_MS` are marked `offline` (their sessions have no
 * agent to ask, and asking each would spend a subrequest per node of a large, partly dark fleet).
 */
export async function createRefreshRequest(
  db: Database,
  input: { targeting: unknown; sections: InventorySection[]; refreshCache: boolean; nodeIds: string[] },
): Promise<RefreshRequestRow> {
  const now = Date.now();
  const row = {
    id: crypto.randomUUID(),
    targeting: JSON.stringify(input.targeting),
    sections: JSON.stringify(input.sections),
    refreshCache: input.refreshCache,
    insertedAt: now,
    updatedAt: now,
  };
  const targets = input.nodeIds.map((nodeId) => ({
    requestId: row.id,
    nodeId,
    status: "queued" as const,
  }));
  const inserts = [];
  // Chunked: 4 parameters per row, and a fleet may be thousands of nodes.
  for (let i = 0; i < targets.length; i += 500)
    inserts.push(db.insert(irt).values(targets.slice(i, i + 500)));
  const dark = db.run(
    sql`UPDATE ${irt} SET status = 'offline' WHERE ${irt.requestId} = ${row.id} AND ${irt.status} = 'queued'
        AND EXISTS (SELECT 1 FROM ${nodes} WHERE ${nodes.id} = ${irt.nodeId} AND ${nodes.status} = 'unreachable'
                    AND coalesce(${nodes.lastSeenAt}, 0) < ${now - OFFLINE_WITHOUT_ASKING_MS})`,
  );
  await db.batch([db.insert(irr).values(row), ...inserts, dark] as never);
  return row;
}

/** A request with targets still to ask, oldest first. */
export type QueuedRequest = Pick<RefreshRequestRow, "id" | "sections" | "refreshCache">;

/** Requests that have `queued` targets, oldest first (the partial index on queued targets serves it). */
export async function requestsWithQueuedTargets(db: Database, limit: number): Promise<QueuedRequest[]> {
  return db
    .select({ id: irr.id, sections: irr.sections, refreshCache: irr.refreshCache })
    .from(irr)
    .where(sql`${irr.id} IN (SELECT ${irt.requestId} FROM ${irt} WHERE ${irt.status} = 'queued')`)
    .orderBy(irr.insertedAt, irr.id)
    .limit(limit);
}

/**
 * Takes up to `limit` of a request's `queued` targets for asking, turning them `requested` in the
 * same statement, so two claimers (the creating request and a cron tick) never ask one node twice.
 */
export async function claimQueuedTargets(db: Database, requestId: string, limit: number): Promise<string[]> {
  const rows = await db.all<{ node_id: string }>(
    sql`UPDATE ${irt} SET status = 'requested'
         WHERE rowid IN (SELECT rowid FROM ${irt} WHERE ${irt.requestId} = ${requestId} AND ${irt.status} = 'queued' LIMIT ${limit})
        RETURNING node_id`,
  );
  return rows.map((r) => r.node_id);
}

/** Stamps a request's `updated_at`: each batch asked moves it. */
export async function touchRefreshRequest(db: Database, requestId: string, now = Date.now()): Promise<void> {
  await db.update(irr).set({ updatedAt: now }).where(eq(irr.id, requestId));
}

/** Marks the targets that could not be asked: not connected, or an agent without inventory. */
export async function markUnanswerable(
  db: Database,
  requestId: string,
  status: "offline" | "unsupported",
  nodeIds: string[],
): Promise<void> {
  for (let i = 0; i < nodeIds.length; i += 500) {
    const chunk = nodeIds.slice(i, i + 500);
    await db.run(
      sql`UPDATE ${irt} SET status = ${status} WHERE ${irt.requestId} = ${requestId} AND ${irt.status} = 'requested'
          AND ${irt.nodeId} IN (${sql.join(
            chunk.map((id) => sql`${id}`),
            sql`, `,
          )})`,
    );
  }
}

/** Loads a request or throws 404. */
export async function getRefreshRequest(db: Database, id: string): Promise<RefreshRequestRow> {
  const [row] = await db.select().from(irr).where(eq(irr.id, id)).limit(1);
  if (!row) throw new ApiError("not_found", "Inventory refresh request not found");
  return row;
}

/** One page of requests, newest first by default. */
export function listRefreshRequests(db: Database, q: ListQuery): Promise<Page<RefreshRequestRow>> {
  return listPage(db, q, db.select().from(irr), db.select({ total: count() }).from(irr));
}

/** Target counts of the given requests, in one grouped query. */
export async function targetCounts(db: Database, ids: string[]): Promise<TargetCounts> {
  const counts: TargetCounts = new Map(
    ids.map((id) => [id, { queued: 0, requested: 0, answered: 0, offline: 0, unsupported: 0 }]),
  );
  if (ids.length === 0) return counts;
  const rows = await db
    .select({ requestId: irt.requestId, status: irt.status, n: count() })
    .from(irt)
    .where(
      sql`${irt.requestId} IN (${sql.join(
        ids.map((id) => sql`${id}`),
        sql`, `,
      )})`,
    )
    .groupBy(irt.requestId, irt.status);
  for (const r of rows) {
    const entry = counts.get(r.requestId);
    if (entry) entry[r.status] = r.n;
  }
  return counts;
}
