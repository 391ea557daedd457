import { and, asc, count, eq, inArray } from "drizzle-orm";
import type { Database } from "../db/client";
import { webhookDeliveryAttempts as a, webhookDeliveries as d } from "../db/schema";
import { ApiError } from "../errors";
import type { ListQuery } from "../list-query/engine";
import { listPage, type Page } from "../list-query/page";

export type DeliveryRow = typeof d.$inferSelect;
export type AttemptRow = typeof a.$inferSelect;

/** One page of a webhook's deliveries (the webhook must exist; the caller checks). */
export function listDeliveries(db: Database, webhookId: string, q: ListQuery): Promise<Page<DeliveryRow>> {
  const where = and(eq(d.webhookId, webhookId), q.where);
  return listPage(db, q, db.select().from(d), db.select({ total: count() }).from(d), where);
}

/** Every attempt of these deliveries, oldest first, in one query. */
export async function attemptsOf(db: Database, deliveryIds: string[]): Promise<AttemptRow[]> {
  if (deliveryIds.length === 0) return [];
  return db.select().from(a).where(inArray(a.deliveryId, deliveryIds)).orderBy(asc(a.attemptedAt), asc(a.id));
}

/**
 * Puts a delivery of the webhook back to `pending`, due now, with a fresh attempt
 * budget; its attempt history is kept. Works from any status; 404 when the webhook has no such delivery.
 */
export async function redeliver(
  db: Database,
  webhookId: string,
  deliveryId: string,
  now = Date.now(),
): Promise<DeliveryRow> {
  const [row] = await db
    .update(d)
    .set({ status: "pending", attempts: 0, nextAttemptAt: now, updatedAt: now })
    .where(and(eq(d.id, deliveryId), eq(d.webhookId, webhookId)))
    .returning();
  if (!row) throw new ApiError("not_found", "Webhook delivery not found");
  return row;
}
