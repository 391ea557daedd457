import { sql } from "drizzle-orm";
import { roles, userRoles, users } from "../db/schema";
import type { ListSpec } from "../list-query/engine";
import { booleanFilter, rangeFilters, textFilter } from "../list-query/filters";

/** The user list's field table. */
export const userListSpec: ListSpec = {
  filters: {
    username: textFilter(sql`${users.username}`, "Filter by username (exact match or wildcard: ops-*)"),
    email: textFilter(sql`${users.email}`, "Filter by email (exact match or wildcard: *@example.com)", {
      caseInsensitive: true,
    }),
    role: {
      ...textFilter(sql`${roles.name}`, "Filter users holding this role (by name)"),
      toSql: (name: string) =>
        sql`EXISTS (SELECT 1 FROM ${userRoles} JOIN ${roles} ON ${roles.id} = ${userRoles.roleId} WHERE ${userRoles.userId} = ${users.id} AND ${roles.name} = ${name})`,
    },
    disabled: booleanFilter("Filter disabled (true) or enabled (false) users", (value) =>
      value ? sql`${users.disabled} = 1` : sql`${users.disabled} = 0`,
    ),
    ...rangeFilters("inserted_at", sql`${users.insertedAt}`, "datetime"),
    ...rangeFilters("last_login_at", sql`${users.lastLoginAt}`, "datetime"),
  },
  sortable: {
    username: sql`${users.username}`,
    inserted_at: sql`${users.insertedAt}`,
    last_login_at: sql`${users.lastLoginAt}`,
  },
  defaultOrder: [{ field: "inserted_at", direction: "asc" }],
  tieBreaker: sql`${users.id}`,
};
