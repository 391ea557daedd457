import type { Database } from "../db/client";
import type { EventType } from "../events/catalog";
import { isoOrNull, isoSeconds } from "../time";
import type { WebhookDeliveryResponse } from "./schema";
import { type AttemptRow, attemptsOf, type DeliveryRow } from "./store";

function presentDelivery(row: DeliveryRow, attempts: AttemptRow[]): WebhookDeliveryResponse {
  return {
    id: row.id,
    webhook_id: row.webhookId,
    event_id: row.eventId,
    // Copied by the fan-out from the event, whose type comes from the catalog.
    event_type: row.eventType as EventType,
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

/** Deliveries in the contract's shape, each with every attempt made for it (one query for all). */
export async function presentDeliveries(
  db: Database,
  rows: DeliveryRow[],
): Promise<WebhookDeliveryResponse[]> {
  const attempts = await attemptsOf(
    db,
    rows.map((r) => r.id),
  );
  return rows.map((row) =>
    presentDelivery(
      row,
      attempts.filter((x) => x.deliveryId === row.id),
    ),
  );
}
