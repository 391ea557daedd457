import { and, asc, count, eq, inArray, sql } from "drizzle-orm";
import * as v from "valibot";
import type { Database } from "../../src/db/client";
import { webhookDeliveryAttempts as a, webhookDeliveries as d } from "../../src/db/schema";
import { EVENT_TYPES } from "../../src/events/catalog";
import type { ListQuery, ListSpec } from "../../src/list-query/engine";
import { enumFilter, integerFilter, rangeFilters } from "../../src/list-query/filters";
import { DateTimeOutput, UuidOutput, UuidParam } from "../../src/schemas/common";
import { isoOrNull, isoSeconds } from "../../src/time";
import { ApiError } from "../errors";
import { listPage } from "./list-page";

export const DELIVERY_STATUSES = ["pending", "succeeded", "failed"] as const;

const AttemptSchema = v.object({
  attempt: v.pipe(
    v.number(),
    v.description("Attempt number within the current round (redeliver starts at 1 again)"),
  ),
  status_code: v.pipe(
    v.nullable(v.number()),
    v.description("HTTP status of the answer; null when none came"),
  ),
  duration_ms: v.number(),
  error: v.pipe(v.nullable(v.string()), v.description("Network error, timeout or non-2xx summary")),
  attempted_at: DateTimeOutput,
});

/** A delivery (one event to one webhook) with every HTTP attempt made for it, oldest first. */
export const WebhookDeliverySchema = v.pipe(
  v.object({
    id: UuidOutput,
    webhook_id: UuidOutput,
    event_id: UuidOutput,
    event_type: v.picklist(EVENT_TYPES),
    status: v.pipe(
      v.picklist(DELIVERY_STATUSES),
      v.description(
        "pending: waiting for its next attempt; succeeded: a 2xx came back; failed: out of attempts",
      ),
    ),
    attempt_count: v.pipe(
      v.number(),
      v.description("Attempts made in the current round (≤ WEBHOOK_MAX_ATTEMPTS)"),
    ),
    next_attempt_at: v.pipe(
      v.nullable(DateTimeOutput),
      v.description("When it is (re)tried next; null once final"),
    ),
    last_status_code: v.nullable(v.number()),
    last_error: v.nullable(v.string()),
    inserted_at: DateTimeOutput,
    updated_at: DateTimeOutput,
    attempts: v.pipe(
      v.array(AttemptSchema),
      v.description("Every attempt, oldest first, across redeliveries"),
    ),
  }),
  v.title("WebhookDelivery"),
);

export const deliveryListSpec: ListSpec = {
  filters: {
    status: enumFilter(sql`${d.status}`, DELIVERY_STATUSES, "Filter by delivery status"),
    event_type: enumFilter(sql`${d.eventType}`, EVENT_TYPES, "Filter by event type"),
    event_id: {
      description: "Filter by event ID (exact match UUID)",
      type: "string",
      parse: (raw) => (v.is(UuidParam, raw) ? { value: raw.toLowerCase() } : { error: "must be a UUID" }),
      toSql: (id: string) => sql`${d.eventId} = ${id}`,
    },
    attempt_count: integerFilter(sql`${d.attempts}`, "Filter by exact attempt_count"),
    ...rangeFilters("attempt_count", sql`${d.attempts}`, "integer"),
    ...rangeFilters("next_attempt_at", sql`${d.nextAttemptAt}`, "datetime"),
    ...rangeFilters("inserted_at", sql`${d.insertedAt}`, "datetime"),
    ...rangeFilters("updated_at", sql`${d.updatedAt}`, "datetime"),
  },
  sortable: {
    inserted_at: sql`${d.insertedAt}`,
    updated_at: sql`${d.updatedAt}`,
    next_attempt_at: sql`${d.nextAttemptAt}`,
    attempt_count: sql`${d.attempts}`,
    status: sql`${d.status}`,
    event_type: sql`${d.eventType}`,
  },
  defaultOrder: [{ field: "inserted_at", direction: "desc" }],
  tieBreaker: sql`${d.id}`,
};

type DeliveryRow = typeof d.$inferSelect;
type AttemptRow = typeof a.$inferSelect;

function present(row: DeliveryRow, attempts: AttemptRow[]) {
  return {
    id: row.id,
    webhook_id: row.webhookId,
    event_id: row.eventId,
    event_type: row.eventType,
    status: row.status,
    attempt_count: row.attempts,
    next_attempt_at: row.status === "pending" ? isoOrNull(row.nextAttemptAt) : null,
    last_status_code: row.lastStatusCode,
    last_error: row.lastError,
    inserted_at: isoSeconds(row.insertedAt),
    updated_at: isoSeconds(row.updatedAt),
    attempts: attempts.map((x) => ({
      attempt: x.attempt,
      status_code: x.statusCode,
      duration_ms: x.durationMs,
      error: x.error,
      attempted_at: isoSeconds(x.attemptedAt),
    })),
  };
}

async function withAttempts(db: Database, rows: DeliveryRow[]) {
  if (rows.length === 0) return [];
  const attempts = await db
    .select()
    .from(a)
    .where(
      inArray(
        a.deliveryId,
        rows.map((r) => r.id),
      ),
    )
    .orderBy(asc(a.attemptedAt), asc(a.id));
  return rows.map((row) =>
    present(
      row,
      attempts.filter((x) => x.deliveryId === row.id),
    ),
  );
}

/** One page of a webhook's deliveries (the webhook must exist; the caller checks). */
export async function listDeliveries(db: Database, webhookId: string, q: ListQuery) {
  const where = and(eq(d.webhookId, webhookId), q.where);
  const { rows, pagination } = await listPage(
    db,
    q,
    db.select().from(d),
    db.select({ total: count() }).from(d),
    where,
  );
  return { data: await withAttempts(db, rows), pagination };
}

/**
 * Puts a delivery of the webhook back to `pending`, due now, with a fresh attempt
 * budget; its attempt history is kept. Works from any status.
 */
export async function redeliver(db: Database, webhookId: string, deliveryId: string, now = Date.now()) {
  const [row] = await db
    .update(d)
    .set({ status: "pending", attempts: 0, nextAttemptAt: now, updatedAt: now })
    .where(and(eq(d.id, deliveryId), eq(d.webhookId, webhookId)))
    .returning();
  if (!row) throw new ApiError("not_found", "Webhook delivery not found");
  const [presented] = await withAttempts(db, [row]);
  return presented;
}
