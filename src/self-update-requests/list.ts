import { sql } from "drizzle-orm";
import { selfUpdateRequests as sur } from "../db/schema";
import type { ListSpec } from "../list-query/engine";
import { enumFilter, rangeFilters } from "../list-query/filters";
import { SELF_UPDATE_STATUSES } from "./schema";

/** The self-update request list's field table. */
export const selfUpdateRequestListSpec: ListSpec = {
  filters: {
    status: enumFilter(sql`${sur.status}`, SELF_UPDATE_STATUSES, "Filter by status"),
    ...rangeFilters("inserted_at", sql`${sur.insertedAt}`, "datetime"),
    ...rangeFilters("updated_at", sql`${sur.updatedAt}`, "datetime"),
  },
  sortable: {
    inserted_at: sql`${sur.insertedAt}`,
    updated_at: sql`${sur.updatedAt}`,
    status: sql`${sur.status}`,
  },
  defaultOrder: [{ field: "inserted_at", direction: "asc" }],
  tieBreaker: sql`${sur.id}`,
};
