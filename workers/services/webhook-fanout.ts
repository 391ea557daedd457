import { asc, inArray, isNull, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { Database } from "../../src/db/client";
import { events, webhookDeliveries, webhooks } from "../../src/db/schema";

/** Events read from the outbox per fan-out round. */
export const FAN_OUT_EVENTS = 100;
/** Deliveries written per round at most (an event's deliveries are never split across rounds). */
const FAN_OUT_MAX_ROWS = 2000;
/** Rows per INSERT statement (11 bound values each, well under SQLite's variable limit). */
const ROWS_PER_INSERT = 200;

/**
 * One fan-out round: the oldest events not yet fanned out get one `pending`
 * delivery per webhook subscribed to their type, and their `fanned_out_at`, in
 * one batch. The unique (webhook_id, event_id) index makes a repeated or
 * concurrent round a no-op. Returns how many events and deliveries it handled.
 */
export async function fanOutEvents(
  db: Database,
  now = Date.now(),
  limit = FAN_OUT_EVENTS,
): Promise<{ events: number; deliveries: number }> {
  const batch = await db
    .select({ id: events.id, type: events.type })
    .from(events)
    .where(isNull(events.fannedOutAt))
    .orderBy(asc(events.occurredAt), asc(events.id))
    .limit(limit);
  if (batch.length === 0) return { events: 0, deliveries: 0 };

  const types = [...new Set(batch.map((e) => e.type))];
  const subscribers = await db.all<{ id: string; subscribed_events: string }>(
    sql`SELECT id, subscribed_events FROM ${webhooks} w WHERE EXISTS (
          SELECT 1 FROM json_each(w.subscribed_events) j WHERE j.value IN (${sql.join(
            types.map((t) => sql`${t}`),
            sql`, `,
          )}))`,
  );
  const byType = new Map<string, string[]>();
  for (const w of subscribers) {
    for (const type of JSON.parse(w.subscribed_events) as string[]) {
      byType.set(type, [...(byType.get(type) ?? []), w.id]);
    }
  }

  const handled: string[] = [];
  const rows: (typeof webhookDeliveries.$inferInsert)[] = [];
  for (const event of batch) {
    const targets = byType.get(event.type) ?? [];
    if (handled.length > 0 && rows.length + targets.length > FAN_OUT_MAX_ROWS) break;
    handled.push(event.id);
    for (const webhookId of targets) {
      rows.push({
        id: crypto.randomUUID(),
        webhookId,
        eventId: event.id,
        eventType: event.type,
        status: "pending",
        attempts: 0,
        nextAttemptAt: now,
        insertedAt: now,
        updatedAt: now,
      });
    }
  }

  const statements: BatchItem<"sqlite">[] = [];
  for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
    statements.push(
      db
        .insert(webhookDeliveries)
        .values(rows.slice(i, i + ROWS_PER_INSERT))
        .onConflictDoNothing(),
    );
  }
  statements.push(
    db
      .update(events)
      .set({ fannedOutAt: now })
      .where(sql`${inArray(events.id, handled)} AND ${isNull(events.fannedOutAt)}`),
  );
  // A webhook deleted since the select fails the batch (foreign key); the next round retries without it.
  const [first, ...rest] = statements;
  await db.batch([first, ...rest]);
  return { events: handled.length, deliveries: rows.length };
}
