import * as v from "valibot";
import { EVENT_TYPES } from "../events/catalog";
import { DateTimeOutput, UuidOutput } from "../schemas/common";

/** Where a delivery stands. */
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
export type WebhookDeliveryResponse = v.InferOutput<typeof WebhookDeliverySchema>;
