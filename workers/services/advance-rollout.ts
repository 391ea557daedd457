import { sql } from "drizzle-orm";
import { advanceRollout, runningRollouts } from "../../src/commands/rollout";
import type { Env } from "../../src/config";
import type { Database } from "../../src/db/client";
import { createLogger } from "../../src/log";
import { deliverToNodes } from "./dispatch";

const log = createLogger({ fields: { service: "advance-rollout" } });

/** Rollouts the cron advances per tick. */
const ROLLOUTS_PER_TICK = 200;

/**
 * Advances one rollout (`advanceRollout`) and delivers the executions it released. The sessions
 * advance a rollout as each result lands; this is the path for a resume and for the cron.
 */
export async function advanceAndDeliver(env: Env, db: Database, commandId: string): Promise<number> {
  const released = await advanceRollout(db, sql`${commandId}`);
  if (released.length > 0) await deliverToNodes(env, released);
  return released.length;
}

/**
 * The cron's pass over running rollouts: what a session could not advance (an execution that
 * expired, was cancelled or deleted, a session that died after its result) moves on here within a
 * minute. Each rollout on its own, so one failure leaves the others going.
 */
export async function advanceRunningRollouts(
  env: Env,
  db: Database,
): Promise<{ rollouts: number; released: number }> {
  const ids = await runningRollouts(db, ROLLOUTS_PER_TICK);
  let released = 0;
  for (const id of ids) {
    try {
      released += await advanceAndDeliver(env, db, id);
    } catch (err) {
      log.warn("advancing a rollout failed", { command_id: id, error: err });
    }
  }
  return { rollouts: ids.length, released };
}
