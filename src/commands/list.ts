import { sql } from "drizzle-orm";
import { commands } from "../db/schema";
import type { ListSpec } from "../list-query/engine";
import { presenceFilter, rangeFilters, textFilter } from "../list-query/filters";

/** The command list's field table. */
export const commandListSpec: ListSpec = {
  filters: {
    command_text: textFilter(
      sql`${commands.commandText}`,
      "Filter by command text (exact match or wildcard: ls, docker*, etc.)",
    ),
    has_expired_at: presenceFilter(
      sql`${commands.expiredAt}`,
      "Filter by whether an expiration is set: true returns commands with expired_at, false returns commands without",
    ),
    has_timeout: presenceFilter(
      sql`${commands.timeout}`,
      "Filter by whether a timeout is set: true returns commands with a timeout, false returns commands without",
    ),
    ...rangeFilters("timeout", sql`${commands.timeout}`, "integer", "timeout (milliseconds)"),
    ...rangeFilters("expired_at", sql`${commands.expiredAt}`, "datetime"),
    ...rangeFilters("inserted_at", sql`${commands.insertedAt}`, "datetime"),
    ...rangeFilters("updated_at", sql`${commands.updatedAt}`, "datetime"),
  },
  sortable: {
    inserted_at: sql`${commands.insertedAt}`,
    updated_at: sql`${commands.updatedAt}`,
    expired_at: sql`${commands.expiredAt}`,
    timeout: sql`${commands.timeout}`,
    command_text: sql`${commands.commandText}`,
  },
  defaultOrder: [{ field: "inserted_at", direction: "asc" }],
  tieBreaker: sql`${commands.id}`,
};
