import { count, eq, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { inventoryRefreshRequests as irr, inventoryRefreshTargets as irt } from "../db/schema";
import { ApiError } from "../errors";
import type { ListQuery } from "../list-query/engine";
import { listPage, type Page } from "../list-query/page";
import type { InventorySection } from "../protocol/inventory-sections";

export type RefreshRequestRow = typeof irr.$inferSelect;

/** Where the targets of some requests stand: request id → counts per target status. */
export type TargetCounts = Map<
  string,
  { requested: number; answered: number; offline: number; unsupported: number }
>;

/** Creates a request and one `requested` target row per node, in one batch. */
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
    status: "requested" as const,
  }));
  const inserts = [];
  // Chunked: 4 parameters per row, and a fleet may be thousands of nodes.
  for (let i = 0; i < targets.length; i += 500)
    inserts.push(db.insert(irt).values(targets.slice(i, i + 500)));
  await db.batch([db.insert(irr).values(row), ...inserts] as never);
  return row;
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
    ids.map((id) => [id, { requested: 0, answered: 0, offline: 0, unsupported: 0 }]),
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
