import type { webhooks } from "../db/schema";
import type { EventType } from "../events/catalog";
import { isoSeconds } from "../time";
import type { WebhookResponse } from "./schema";

/** The public view of a webhook: secret and headers are write-only and never leave the server. */
export function presentWebhook(row: typeof webhooks.$inferSelect): WebhookResponse {
  return {
    id: row.id,
    inserted_at: isoSeconds(row.insertedAt),
    // Written only by createWebhook from a validated, de-duplicated list of catalog types.
    subscribed_events: JSON.parse(row.subscribedEvents) as EventType[],
    updated_at: isoSeconds(row.updatedAt),
    url: row.url,
  };
}
