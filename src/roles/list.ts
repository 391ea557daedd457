import { sql } from "drizzle-orm";
import { roles } from "../db/schema";
import type { ListSpec } from "../list-query/engine";
import { booleanFilter, rangeFilters, textFilter } from "../list-query/filters";

/** The role list's field table. */
export const roleListSpec: ListSpec = {
  filters: {
    name: textFilter(sql`${roles.name}`, "Filter by role name (exact match or wildcard: ops*)"),
    is_system: booleanFilter("Filter system (true) or custom (false) roles", (value) =>
      value ? sql`${roles.isSystem} = 1` : sql`${roles.isSystem} = 0`,
    ),
    permission: textFilter(
      sql`${roles.permissions}`,
      "Filter roles whose permission list contains this text (e.g. nodes:write)",
      { substring: true },
    ),
    ...rangeFilters("inserted_at", sql`${roles.insertedAt}`, "datetime"),
    ...rangeFilters("updated_at", sql`${roles.updatedAt}`, "datetime"),
  },
  sortable: {
    name: sql`${roles.name}`,
    inserted_at: sql`${roles.insertedAt}`,
    updated_at: sql`${roles.updatedAt}`,
  },
  defaultOrder: [{ field: "inserted_at", direction: "asc" }],
  tieBreaker: sql`${roles.id}`,
};
