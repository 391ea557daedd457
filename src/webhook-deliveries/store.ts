import { and, asc, count, eq, inArray } from "drizzle-orm";
import type { Database } from "../db/client";
import { webhookDeliveryAttempts as a, webhookDeliveries as d, webhooks } from "../db/schema";
import { ApiError } from "../errors";
import type { ListQuery } from "../list-query/engine";
import { listPage, type Page } from "../list-query/page";

export type DeliveryRow = typeof d.$inferSelect;
export type AttemptRow = typeof a.$inferSelect;

/** One page of the deliveries of webhook `id`; a 404 when that webhook does not exist. */
export async function listDeliveries(
  db: Database,
  q: ListQuery,
  { id: webhookId }: { id: string },
): Promise<Page<DeliveryRow>> {
  // The existence check keeps "no such webhook" (404) apart from "no deliveries yet" (empty page).
  const [webhook] = await db.select({ id: webhooks.id }).from(webhooks).where(eq(webhooks.id, webhookId));
  if (!webhook) throw new ApiError("not_found", "Webhook not found");
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
