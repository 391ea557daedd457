import { sql } from "drizzle-orm";
import { advanceRollout, advanceRolloutOfExecution } from "../../src/commands/rollout";
import type { Env } from "../../src/config";
import type { Database } from "../../src/db/client";
import type { Logger } from "../../src/log";
import { driveSelfUpdateRollout } from "../../src/self-update-requests/drive";
import { getSelfUpdateRequest } from "../../src/self-update-requests/store";

/**
 * After one of this node's executions finished: moves its command's rollout on (a no-op batch for a
 * command that is no rollout) and asks the sessions of the released executions' nodes to deliver.
 * Runs off the frame path; a failure is left to the cron's pass over running rollouts.
 */
export async function advanceAfterResult(
  env: Env,
  db: Database,
  executionId: string,
  log: Logger,
): Promise<void> {
  try {
    const released = await advanceRolloutOfExecution(db, executionId);
    const ns = env.NODE_SESSION;
    if (!ns || released.length === 0) return;
    await Promise.allSettled(
      released.map((nodeId) => ns.get(ns.idFromName(nodeId)).deliver({ resend: false })),
    );
  } catch (error) {
    log.warn("advancing a rollout after a result failed", { execution_id: executionId, error });
  }
}

/**
 * After a hello confirmed this node's reboot: a fleet power action's rollout (`max_concurrency`)
 * has a free slot, so it moves on now rather than at the cron's next pass (the safety net).
 */
export async function advanceAfterReboot(
  env: Env,
  db: Database,
  commandIds: string[],
  log: Logger,
): Promise<void> {
  const ns = env.NODE_SESSION;
  for (const id of commandIds) {
    try {
      const released = await advanceRollout(db, sql`${id}`);
      if (!ns) continue;
      await Promise.allSettled(
        released.map((nodeId) => ns.get(ns.idFromName(nodeId)).deliver({ resend: false })),
      );
    } catch (error) {
      log.warn("advancing a power rollout after a reboot failed", { command_id: id, error });
    }
  }
}

/**
 * After a hello on a rollout's release version finished this node: the rollouts move on, telling
 * the next agents through their sessions. A failure is left to the cron's pass.
 */
export async function advanceSelfUpdatesAfterHello(
  env: Env,
  db: Database,
  requestIds: string[],
  log: Logger,
): Promise<void> {
  const ns = env.NODE_SESSION;
  if (!ns) return;
  for (const id of requestIds) {
    try {
      const release = JSON.parse((await getSelfUpdateRequest(db, id)).release ?? "null");
      if (!release) continue;
      await driveSelfUpdateRollout(db, id, (nodeId) =>
        ns.get(ns.idFromName(nodeId)).sendFrame({ type: "self_update", ...release }),
      );
    } catch (error) {
      log.warn("advancing a self-update rollout after a hello failed", { self_update_request_id: id, error });
    }
  }
}
