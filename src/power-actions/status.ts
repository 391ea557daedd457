import { sql } from "drizzle-orm";
import { commandExecutions as ce, powerActions as p } from "../db/schema";

/** A power action's states, derived from its execution and its schedule. */
export const POWER_ACTION_STATUSES = [
  "waiting",
  "pending",
  "scheduled",
  "issued",
  "completed",
  "failed",
  "cancelled",
  "expired",
] as const;
export type PowerActionStatus = (typeof POWER_ACTION_STATUSES)[number];

const NOW_MS = sql`CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)`;

/**
 * The status as SQL over a power action joined to its execution: `waiting` while a fleet power
 * action's `max_concurrency` holds it back, `pending` until the agent has
 * scheduled it, `scheduled` until it is due, `issued` once due, `completed` once the node said hello
 * with another boot id (reboots), `failed` when scheduling failed;
 * `cancelled` and `expired` as they say. One expression for the list filter and the presenter.
 */
export const powerActionStatusSql = sql<PowerActionStatus>`CASE
  WHEN ${p.confirmedAt} IS NOT NULL THEN 'completed'
  WHEN ${p.cancelledAt} IS NOT NULL OR ${ce.status} = 'cancelled' THEN 'cancelled'
  WHEN ${ce.status} = 'pending' AND ${ce.held} = 1 THEN 'waiting'
  WHEN ${ce.status} IN ('pending', 'sent') THEN 'pending'
  WHEN ${ce.status} = 'expired' THEN 'expired'
  WHEN ${ce.status} = 'completed' AND ${ce.exitCode} = 0 AND ${p.scheduledAt} > ${NOW_MS} THEN 'scheduled'
  WHEN ${ce.status} = 'completed' AND ${ce.exitCode} = 0 THEN 'issued'
  ELSE 'failed' END`;
