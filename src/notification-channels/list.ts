import { sql } from "drizzle-orm";
import { notificationChannels as c, notificationDeliveries as d } from "../db/schema";
import type { ListSpec } from "../list-query/engine";
import { booleanFilter, enumFilter, rangeFilters, textFilter, uuidFilter } from "../list-query/filters";
import { CHANNEL_TYPES, DELIVERY_REASONS } from "./schema";

/** The channel list's field table. */
export const notificationChannelListSpec: ListSpec = {
  filters: {
    name: textFilter(sql`${c.name}`, "Filter by name (exact match or wildcard)"),
    type: enumFilter(sql`${c.type}`, CHANNEL_TYPES, "Filter by type"),
    enabled: booleanFilter(
      "Only enabled (true) or disabled (false) channels",
      (on) => sql`${c.enabled} = ${on ? 1 : 0}`,
    ),
    ...rangeFilters("inserted_at", sql`${c.insertedAt}`, "datetime"),
  },
  sortable: { name: sql`${c.name}`, type: sql`${c.type}`, inserted_at: sql`${c.insertedAt}` },
  defaultOrder: [{ field: "inserted_at", direction: "asc" }],
  tieBreaker: sql`${c.id}`,
};

/** A channel's delivery history's field table. */
export const notificationDeliveryListSpec: ListSpec = {
  filters: {
    status: enumFilter(sql`${d.status}`, ["pending", "succeeded", "failed"], "Filter by delivery status"),
    reason: enumFilter(sql`${d.reason}`, DELIVERY_REASONS, "Why it was sent"),
    event_type: textFilter(sql`${d.eventType}`, "Filter by event type"),
    alert_id: uuidFilter(sql`${d.alertId}`, "Deliveries about this alert"),
    ...rangeFilters("inserted_at", sql`${d.insertedAt}`, "datetime"),
  },
  sortable: { inserted_at: sql`${d.insertedAt}`, updated_at: sql`${d.updatedAt}` },
  defaultOrder: [{ field: "inserted_at", direction: "desc" }],
  tieBreaker: sql`${d.id}`,
};
