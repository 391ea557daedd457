import { sql } from "drizzle-orm";
import { webhookDeliveries as d } from "../db/schema";
import { EVENT_TYPES } from "../events/catalog";
import type { ListSpec } from "../list-query/engine";
import { enumFilter, integerFilter, rangeFilters, uuidFilter } from "../list-query/filters";
import { DELIVERY_STATUSES } from "./schema";

/** The field table of a webhook's delivery list (always scoped to that webhook by the store). */
export const deliveryListSpec: ListSpec = {
  filters: {
    status: enumFilter(sql`${d.status}`, DELIVERY_STATUSES, "Filter by delivery status"),
    event_type: enumFilter(sql`${d.eventType}`, EVENT_TYPES, "Filter by event type"),
    event_id: uuidFilter(sql`${d.eventId}`, "Filter by event ID (exact match UUID)"),
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
