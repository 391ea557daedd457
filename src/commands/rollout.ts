import { type SQL, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { commandExecutions as ce, commands } from "../db/schema";
import { ApiError } from "../errors";
import { recordEventWhere } from "../events/outbox";
import {
  type ClaimedExecution,
  type ClaimedNodeExecution,
  claimReleasedStatements,
  groupClaimedByNode,
} from "../executions/lifecycle";
import { MIN_POWER_DELAY_SECONDS } from "../node-actions/scripts";
import { powerActionsInProgressSql, rescheduleReleasedStatement } from "../power-actions/rollout";
import type { RolloutStatus } from "./rollout-limits";

// A rollout (C11) is a command whose executions past its window are written `pending` and `held`:
// deliveries skip held rows, and `advanceRollout` releases them as earlier ones finish. Each
// advance is one libSQL batch (one write transaction), so two results finishing together can't
// both take the last free slot, and a rollout survives any Worker or object restart: its whole
// state is in these rows.

const FAILED = sql`((x.status = 'completed' AND x.exit_code != 0) OR x.status = 'expired')`;

/** Statements that end a command's held executions with a reason (a stopped or cancelled rollout). */
function cancelHeldStatements(db: Database, command: SQL, reason: string, now: number) {
  const where = sql`e.command_id = ${command} AND e.status = 'pending' AND e.held = 1
    AND EXISTS (SELECT 1 FROM ${commands} c WHERE c.id = e.command_id AND c.rollout_status IN ('stopped', 'cancelled'))`;
  return [
    recordEventWhere(
      db,
      "edge.command_execution.cancelled",
      sql`json_object('execution_id', e.id, 'command_id', e.command_id, 'node_id', e.node_id, 'cluster_name', e.cluster_name, 'reason', ${reason})`,
      sql`FROM ${ce} e WHERE ${where}`,
      now,
    ),
    db.run(sql`UPDATE ${ce} AS e SET status = 'cancelled', held = 0, cancelled_at = ${now}, updated_at = ${now},
               output = ${`[${reason}]`} WHERE ${where}`),
  ] as const;
}

/**
 * The statements of one advance of `command`'s rollout (see `advanceRollout`); the fourth returns
 * the released rows' nodes. `command` is an SQL expression for the command id.
 */
function advanceStatements(db: Database, command: SQL, now: number) {
  const failures = sql`(SELECT count(*) FROM ${ce} x WHERE x.command_id = c.id AND ${FAILED})`;
  const stop = db.run(sql`UPDATE ${commands} AS c SET rollout_status = 'stopped', updated_at = ${now},
      rollout_reason = 'rollout stopped: ' || ${failures} || ' executions failed, more than max_errors (' || c.error_limit || ')'
    WHERE c.id = ${command} AND c.rollout_status = 'running' AND c.error_limit IS NOT NULL AND ${failures} > c.error_limit`);
  // A fleet power action's slot is held until its node is back (or down), not just until its script ran.
  const running = sql`((SELECT count(*) FROM ${ce} x WHERE x.command_id = ${command} AND x.status IN ('pending', 'sent') AND x.held = 0)
    + ${powerActionsInProgressSql(command, now)})`;
  const slots = sql`max(0, coalesce((SELECT c.concurrency_limit FROM ${commands} c WHERE c.id = ${command} AND c.rollout_status = 'running'), 0) - ${running})`;
  const release = db.all<{ node_id: string | null }>(sql`UPDATE ${ce} SET held = 0, updated_at = ${now}
    WHERE id IN (SELECT id FROM ${ce} WHERE command_id = ${command} AND held = 1 AND status = 'pending'
                  ORDER BY rollout_rank LIMIT ${slots})
    RETURNING node_id`);
  const complete = db.run(sql`UPDATE ${commands} AS c SET rollout_status = 'completed', updated_at = ${now}
    WHERE c.id = ${command} AND c.rollout_status = 'running'
      AND NOT EXISTS (SELECT 1 FROM ${ce} x WHERE x.command_id = c.id AND x.status IN ('pending', 'sent'))`);
  return [
    stop,
    ...cancelHeldStatements(db, command, "rollout stopped: too many executions failed", now),
    release,
    complete,
    rescheduleReleasedStatement(db, command, now, MIN_POWER_DELAY_SECONDS),
  ] as const;
}

/**
 * Moves a rollout on, in one batch: stops it (cancelling what still waits) once its failures exceed
 * `error_limit`; else releases as many held executions, in rollout order, as the window has free
 * slots; marks it completed once nothing waits or runs. `command` is an SQL expression for the
 * command id, so a session can advance by the execution it just finished without reading first: a
 * command that is no running rollout makes every statement a no-op. Returns the nodes whose
 * executions were released, to deliver to.
 */
export async function advanceRollout(db: Database, command: SQL, now = Date.now()): Promise<string[]> {
  const [, , , released] = await db.batch(advanceStatements(db, command, now));
  return (released as { node_id: string | null }[]).flatMap((r) => (r.node_id ? [r.node_id] : []));
}

/**
 * Advances several rollouts in one batch (one write transaction, one round trip) and, in the same
 * batch, claims (`sent`) the executions each released on connected nodes: what the result writer
 * does once per group of results, so a freed slot's next execution goes out with one more round
 * trip in all and no write by its node's session. Returns the claimed rows per node, to push to
 * their sessions; a released row of a node the database thinks offline stays `pending`.
 */
export async function advanceRolloutsAndClaim(
  db: Database,
  commandIds: string[],
  now = Date.now(),
): Promise<Map<string, ClaimedExecution[]>> {
  const perCommand = commandIds.map((id) => [
    ...advanceStatements(db, sql`${id}`, now),
    ...claimReleasedStatements(db, sql`${id}`, now),
  ]);
  const [first, ...rest] = perCommand.flat();
  if (!first) return new Map();
  const written = await db.batch([first, ...rest]);
  const size = perCommand[0]?.length ?? 0;
  const claimed = perCommand.flatMap((_, k) => written[k * size + size - 1] as ClaimedNodeExecution[]);
  return groupClaimedByNode(claimed);
}

/** `advanceRollout` for the command of one execution (what a session calls after its result). */
export function advanceRolloutOfExecution(
  db: Database,
  executionId: string,
  now = Date.now(),
): Promise<string[]> {
  return advanceRollout(db, sql`(SELECT command_id FROM ${ce} WHERE id = ${executionId})`, now);
}

/** Running rollouts, oldest first (what the cron advances as the safety net). */
export async function runningRollouts(db: Database, limit: number): Promise<string[]> {
  const rows = await db.all<{ id: string }>(
    sql`SELECT id FROM ${commands} WHERE rollout_status = 'running' ORDER BY inserted_at LIMIT ${limit}`,
  );
  return rows.map((r) => r.id);
}

const ALLOWED: Record<"pause" | "resume" | "cancel", RolloutStatus[]> = {
  pause: ["running"],
  resume: ["paused"],
  cancel: ["running", "paused"],
};
const TARGET: Record<"pause" | "resume" | "cancel", RolloutStatus> = {
  pause: "paused",
  resume: "running",
  cancel: "cancelled",
};

/**
 * Pauses (no more releases; running executions finish), resumes or cancels (the held executions
 * are cancelled; running ones finish) a rollout, conditionally on its state: 404 for an unknown
 * command, 409 for a command that is no rollout or is not in a state the action applies to.
 */
export async function changeRollout(
  db: Database,
  id: string,
  action: "pause" | "resume" | "cancel",
  now = Date.now(),
): Promise<void> {
  const from = sql.join(
    ALLOWED[action].map((s) => sql`${s}`),
    sql`, `,
  );
  const reason = action === "cancel" ? "rollout cancelled by request" : null;
  const [update] = await db.batch([
    db.run(sql`UPDATE ${commands} SET rollout_status = ${TARGET[action]}, rollout_reason = coalesce(${reason}, rollout_reason),
               updated_at = ${now} WHERE id = ${id} AND rollout_status IN (${from})`),
    ...cancelHeldStatements(db, sql`${id}`, "rollout cancelled by request", now),
  ]);
  if (update.rowsAffected > 0) return;
  const [row] = await db.all<{ rollout_status: string | null }>(
    sql`SELECT rollout_status FROM ${commands} WHERE id = ${id}`,
  );
  if (!row) throw new ApiError("not_found", "Command not found");
  throw new ApiError(
    "conflict",
    row.rollout_status === null
      ? "Command is not a rollout (it was created without max_concurrency)"
      : `Rollout is ${row.rollout_status}; ${action} applies to a ${ALLOWED[action].join(" or ")} rollout`,
  );
}
