import { type SQL, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { commandExecutions as ce, nodes, powerActions as p } from "../db/schema";

// A fleet power action with `max_concurrency` is a command rollout (`commands/rollout.ts`), but a
// power action's slot outlives its execution: the script only schedules the reboot, so the node is
// still "in progress" until it comes back with a new boot id (reboot), is gone offline after its
// scheduled time (shutdown), or the action was cancelled. The rollout counts these too, and the
// cron's pass over running rollouts (every minute) releases the next nodes once they finish.

/** A node that never comes back stops holding its slot this long after its scheduled time. */
export const POWER_SLOT_TIMEOUT_MS = 15 * 60_000;

/**
 * SQL for how many of a command's power actions were scheduled on their machine (execution
 * completed with 0) and are not finished yet: what a rollout counts as running beyond its live
 * executions. Zero for a command that is no power action.
 */
export function powerActionsInProgressSql(command: SQL, now: number): SQL {
  return sql`(SELECT count(*) FROM ${p} q JOIN ${ce} x ON x.id = q.execution_id
      LEFT JOIN ${nodes} n ON n.id = q.node_id
     WHERE q.command_id = ${command} AND x.status = 'completed' AND x.exit_code = 0
       AND q.confirmed_at IS NULL AND q.cancelled_at IS NULL
       AND q.scheduled_at > ${now - POWER_SLOT_TIMEOUT_MS}
       AND NOT (q.action = 'shutdown' AND q.scheduled_at <= ${now} AND coalesce(n.status, 'unreachable') = 'unreachable'))`;
}

/**
 * The statement, run in the same batch right after a release, that schedules the power actions
 * whose executions were just released (`updated_at = now`) `delay_seconds` from now: the script
 * counts its delay from when it runs, so the stored schedule follows.
 */
export function rescheduleReleasedStatement(
  db: Database,
  command: SQL,
  now: number,
  minDelaySeconds: number,
) {
  return db.run(sql`UPDATE ${p} SET scheduled_at = ${now} + max(${minDelaySeconds}, delay_seconds) * 1000
    WHERE command_id = ${command} AND execution_id IN (
      SELECT id FROM ${ce} WHERE command_id = ${command} AND status = 'pending' AND held = 0 AND updated_at = ${now})`);
}
