import type { notificationDeliveries } from "../db/schema";
import type { EventType } from "../events/catalog";
import { isoOrNull, isoSeconds } from "../time";
import type { NotificationDeliveryResponse } from "./schema";
import { CHANNEL_CONFIGS, type ChannelType, type NotificationChannelResponse } from "./schema";
import type { NotificationChannelRow } from "./store";

/** Renders a channel row: public settings only. */
export function presentNotificationChannel(row: NotificationChannelRow): NotificationChannelResponse {
  const type = row.type as ChannelType;
  return {
    id: row.id,
    name: row.name,
    type,
    config: JSON.parse(row.config) as Record<string, unknown>,
    secret_fields: [...CHANNEL_CONFIGS[type].secret],
    subscribed_events: JSON.parse(row.subscribedEvents) as EventType[],
    enabled: row.enabled,
    inserted_at: isoSeconds(row.insertedAt),
    updated_at: isoSeconds(row.updatedAt),
  };
}

/** Renders a delivery row (reason and status were written from closed sets). */
export function presentNotificationDelivery(
  row: typeof notificationDeliveries.$inferSelect,
): NotificationDeliveryResponse {
  return {
    id: row.id,
    channel_id: row.channelId,
    event_id: row.eventId,
    event_type: row.eventType,
    alert_id: row.alertId,
    reason: row.reason as NotificationDeliveryResponse["reason"],
    status: row.status,
    attempts: row.attempts,
    next_attempt_at: isoOrNull(row.nextAttemptAt),
    last_status_code: row.lastStatusCode,
    last_error: row.lastError,
    last_duration_ms: row.lastDurationMs,
    inserted_at: isoSeconds(row.insertedAt),
    updated_at: isoSeconds(row.updatedAt),
  };
}
