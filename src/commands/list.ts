import { sql } from "drizzle-orm";
import { commands } from "../db/schema";
import type { ListSpec } from "../list-query/engine";
import { enumFilter, presenceFilter, rangeFilters, textFilter } from "../list-query/filters";
import { ROLLOUT_STATUSES } from "./rollout-limits";

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
    rollout_status: enumFilter(
      sql`${commands.rolloutStatus}`,
      ROLLOUT_STATUSES,
      "Beyond the contract: rollouts in this state (commands without max_concurrency have none)",
    ),
    is_rollout: presenceFilter(
      sql`${commands.rolloutStatus}`,
      "Beyond the contract: true returns rollouts (commands created with max_concurrency), false the others",
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
