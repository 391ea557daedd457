import { count, eq } from "drizzle-orm";
import type { Database } from "../db/client";
import { nodeTombstones } from "../db/schema";
import { ApiError } from "../errors";
import type { ListQuery } from "../list-query/engine";
import { listPage, type Page } from "../list-query/page";

export type NodeTombstoneRow = typeof nodeTombstones.$inferSelect;

/**
 * The insert that blocks a node id from enrolling again (kept when it is already blocked), for the
 * batch that deletes the node.
 * @example await db.batch([…, tombstoneInsert(db, { nodeId, clusterName: "edge", hostname: "pi-1" })])
 */
export function tombstoneInsert(
  db: Database,
  node: { nodeId: string; clusterName: string | null; hostname: string | null },
) {
  return db
    .insert(nodeTombstones)
    .values({ ...node, insertedAt: Date.now() })
    .onConflictDoNothing();
}

/** Lifts a block; 404 when the id was not blocked. */
export async function deleteTombstone(db: Database, nodeId: string): Promise<void> {
  const deleted = await db
    .delete(nodeTombstones)
    .where(eq(nodeTombstones.nodeId, nodeId))
    .returning({ nodeId: nodeTombstones.nodeId });
  if (deleted.length === 0) throw new ApiError("not_found", "Node tombstone not found");
}

/** One page of tombstones by `nodeTombstoneListSpec`. */
export function listTombstones(db: Database, q: ListQuery): Promise<Page<NodeTombstoneRow>> {
  return listPage(
    db,
    q,
    db.select().from(nodeTombstones),
    db.select({ total: count() }).from(nodeTombstones),
  );
}
