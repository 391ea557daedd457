import { and, count, eq } from "drizzle-orm";
import type { Database } from "../db/client";
import { notificationDeliveries } from "../db/schema";
import type { ListQuery } from "../list-query/engine";
import { listPage, type Page } from "../list-query/page";
import type { NotificationContext } from "./render";

export type NotificationDeliveryRow = typeof notificationDeliveries.$inferSelect;

/** A new `pending` delivery, due now. */
export function newDelivery(
  channelId: string,
  ctx: NotificationContext,
  now: number,
  alertId: string | null = ctx.alert?.id ?? null,
): NotificationDeliveryRow {
  return {
    id: crypto.randomUUID(),
    channelId,
    eventId: ctx.reason === "repeat" || ctx.reason === "test" ? null : ctx.event_id,
    eventType: ctx.event_type,
    alertId,
    reason: ctx.reason,
    data: JSON.stringify(ctx),
    status: "pending",
    attempts: 0,
    nextAttemptAt: now,
    lastStatusCode: null,
    lastError: null,
    lastDurationMs: null,
    insertedAt: now,
    updatedAt: now,
  };
}

/** One page of a channel's deliveries by `notificationDeliveryListSpec`. */
export function listChannelDeliveries(
  db: Database,
  q: ListQuery,
  channelId: string,
): Promise<Page<NotificationDeliveryRow>> {
  const where = and(q.where, eq(notificationDeliveries.channelId, channelId));
  return listPage(
    db,
    q,
    db.select().from(notificationDeliveries),
    db.select({ total: count() }).from(notificationDeliveries),
    where,
  );
}

/** The delivery with this id (null when gone). */
export async function getDelivery(db: Database, channelId: string, id: string) {
  const [row] = await db
    .select()
    .from(notificationDeliveries)
    .where(and(eq(notificationDeliveries.id, id), eq(notificationDeliveries.channelId, channelId)))
    .limit(1);
  return row ?? null;
}
