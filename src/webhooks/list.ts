import { sql } from "drizzle-orm";
import { webhooks as w } from "../db/schema";
import { EVENT_TYPES } from "../events/catalog";
import type { ListSpec } from "../list-query/engine";
import { rangeFilters, textFilter } from "../list-query/filters";
import { ASYNCAPI, KNOWN_EVENTS } from "./schema";

/** The webhook list's field table. */
export const webhookListSpec: ListSpec = {
  filters: {
    event_type: {
      description: `Returns webhooks whose subscribed_events list contains this event type. See ${ASYNCAPI} for the catalog.`,
      type: "string",
      enum: EVENT_TYPES,
      parse: (raw) =>
        KNOWN_EVENTS.has(raw)
          ? { value: raw }
          : { error: "must be a known event type (GET /api/v1/event_types)" },
      toSql: (type: string) =>
        sql`EXISTS (SELECT 1 FROM json_each(${w.subscribedEvents}) WHERE value = ${type})`,
    },
    url: textFilter(sql`${w.url}`, "Filter by URL (exact match or wildcard: prefix, suffix, substring)"),
    ...rangeFilters("inserted_at", sql`${w.insertedAt}`, "datetime"),
    ...rangeFilters("updated_at", sql`${w.updatedAt}`, "datetime"),
  },
  sortable: { url: sql`${w.url}`, inserted_at: sql`${w.insertedAt}`, updated_at: sql`${w.updatedAt}` },
  defaultOrder: [{ field: "inserted_at", direction: "asc" }],
  tieBreaker: sql`${w.id}`,
};
