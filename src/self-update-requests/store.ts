import { count, eq, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { selfUpdateRequests as sur } from "../db/schema";
import { ApiError } from "../errors";
import type { ListQuery } from "../list-query/engine";
import { listPage, type Page } from "../list-query/page";

export type SelfUpdateRow = typeof sur.$inferSelect;

/** Loads a request or throws 404. */
export async function getSelfUpdateRequest(db: Database, id: string): Promise<SelfUpdateRow> {
  const [row] = await db.select().from(sur).where(eq(sur.id, id)).limit(1);
  if (!row) throw new ApiError("not_found", "Self-update request not found");
  return row;
}

/**
 * Deletes a completed request; `pending` or `processing` ones are a 409.
 * One conditional DELETE, so it can't race the processing.
 */
export async function deleteSelfUpdateRequest(db: Database, id: string): Promise<void> {
  const deleted = await db
    .delete(sur)
    .where(sql`${sur.id} = ${id} AND ${sur.status} = 'completed'`)
    .returning({ id: sur.id });
  if (deleted.length > 0) return;
  const row = await getSelfUpdateRequest(db, id);
  throw new ApiError(
    "conflict",
    `Self-update request is ${row.status}; only completed requests can be deleted`,
  );
}

/** One page of requests by `selfUpdateRequestListSpec`. */
export function listSelfUpdateRequests(db: Database, q: ListQuery): Promise<Page<SelfUpdateRow>> {
  return listPage(db, q, db.select().from(sur), db.select({ total: count() }).from(sur));
}
