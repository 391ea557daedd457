import { sql } from "drizzle-orm";
import { auditEvents } from "../db/schema";
import type { ListSpec } from "../list-query/engine";
import { booleanFilter, rangeFilters, textFilter } from "../list-query/filters";

/** The audit event list's field table (newest first by default). */
export const auditEventListSpec: ListSpec = {
  filters: {
    event: textFilter(sql`${auditEvents.event}`, "Filter by event (exact match or wildcard: auth.*)"),
    actor_type: textFilter(
      sql`${auditEvents.actorType}`,
      "Filter by actor type (api_key, user, api_token, anonymous)",
    ),
    actor_id: textFilter(sql`${auditEvents.actorId}`, "Filter by actor id"),
    actor_name: textFilter(sql`${auditEvents.actorName}`, "Filter by actor name (exact match or wildcard)"),
    success: booleanFilter("Filter successful (true) or refused (false) actions", (value) =>
      value ? sql`${auditEvents.success} = 1` : sql`${auditEvents.success} = 0`,
    ),
    resource_type: textFilter(sql`${auditEvents.resourceType}`, "Filter by resource type (node, user, …)"),
    resource_id: textFilter(sql`${auditEvents.resourceId}`, "Filter by resource id"),
    ...rangeFilters("occurred_at", sql`${auditEvents.occurredAt}`, "datetime"),
    ...rangeFilters("seq", sql`${auditEvents.seq}`, "integer"),
  },
  sortable: {
    seq: sql`${auditEvents.seq}`,
    occurred_at: sql`${auditEvents.occurredAt}`,
    event: sql`${auditEvents.event}`,
  },
  defaultOrder: [{ field: "seq", direction: "desc" }],
  tieBreaker: sql`${auditEvents.id}`,
};
