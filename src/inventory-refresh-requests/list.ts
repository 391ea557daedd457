import { sql } from "drizzle-orm";
import { inventoryRefreshRequests as irr } from "../db/schema";
import type { ListSpec } from "../list-query/engine";
import { rangeFilters } from "../list-query/filters";

/** The refresh request list's field table. */
export const refreshRequestListSpec: ListSpec = {
  filters: {
    ...rangeFilters("inserted_at", sql`${irr.insertedAt}`, "datetime"),
  },
  sortable: { inserted_at: sql`${irr.insertedAt}` },
  defaultOrder: [{ field: "inserted_at", direction: "desc" }],
  tieBreaker: sql`${irr.id}`,
};
