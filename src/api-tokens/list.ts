import { sql } from "drizzle-orm";
import { apiTokens } from "../db/schema";
import type { ListSpec } from "../list-query/engine";
import { presenceFilter, rangeFilters, textFilter } from "../list-query/filters";

/** The API token list's field table. */
export const apiTokenListSpec: ListSpec = {
  filters: {
    name: textFilter(sql`${apiTokens.name}`, "Filter by token name (exact match or wildcard: ci-*)"),
    revoked: presenceFilter(sql`${apiTokens.revokedAt}`, "Filter revoked (true) or live (false) tokens"),
    ...rangeFilters("expires_at", sql`${apiTokens.expiresAt}`, "datetime"),
    ...rangeFilters("last_used_at", sql`${apiTokens.lastUsedAt}`, "datetime"),
    ...rangeFilters("inserted_at", sql`${apiTokens.insertedAt}`, "datetime"),
  },
  sortable: {
    name: sql`${apiTokens.name}`,
    expires_at: sql`${apiTokens.expiresAt}`,
    last_used_at: sql`${apiTokens.lastUsedAt}`,
    inserted_at: sql`${apiTokens.insertedAt}`,
  },
  defaultOrder: [{ field: "inserted_at", direction: "asc" }],
  tieBreaker: sql`${apiTokens.id}`,
};
