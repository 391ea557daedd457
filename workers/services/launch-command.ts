import { targetsInScope } from "../../src/access/cluster-scope";
import type { CommandCreateInput, WaitedExecution } from "../../src/commands/schema";
import { type CommandRow, createCommand } from "../../src/commands/store";
import type { Env } from "../../src/config";
import type { Database } from "../../src/db/client";
import { createLogger } from "../../src/log";
import { dispatchExecutions, isDirectFanout } from "./dispatch";
import { canWaitInSessions, pushAndAwaitInSessions } from "./session-wait";
import { resolveTargetingWithWarnings } from "./targeting";

const log = createLogger({ fields: { service: "launch-command" } });

/**
 * Creates a command and starts delivering it: resolves its targeting to node ids (422 when it
 * matches none), writes the command and its executions, then fans out to the nodes' sessions.
 * A small target set is claimed in the same write and pushed at once. `clusterScope` (a scoped
 * API token's clusters) narrows the targets. A rollout's rows past its window are written held and
 * are not claimed: the rollout releases them as executions finish (`advance-rollout.ts`).
 * Returns the targeting's warnings (hostnames shared or matching nothing) with the command, and for
 * a small synchronous command (`wait_seconds`) whose nodes are all connected, `settled`: its
 * executions as the sessions saw their results written (`session-wait.ts`), null if one could not.
 */
export async function launchCommand(
  env: Env,
  ctx: { waitUntil(promise: Promise<unknown>): void },
  db: Database,
  input: CommandCreateInput,
  clusterScope: readonly string[] | null = null,
): Promise<{ command: CommandRow; warnings: string[]; settled?: Promise<WaitedExecution[] | null> }> {
  const resolved = await resolveTargetingWithWarnings(db, input.targeting);
  // A cluster-scoped token reaches only its clusters' nodes (403 when none of the targets is there).
  const nodeIds = await targetsInScope(db, resolved.nodeIds, clusterScope);
  const { command, claimed, executionIds } = await createCommand(db, input, nodeIds, {
    claimUpTo: (count) => isDirectFanout(env, count),
  });
  // A small synchronous command (not a rollout: its rows past the window are held) is pushed by
  // RPCs that also wait in the sessions for its results, so the answer needs no polling.
  const plan = claimed && { claimed, executionIds, hostnames: resolved.hostnames };
  if (
    input.wait_seconds !== undefined &&
    input.max_concurrency === undefined &&
    plan &&
    canWaitInSessions(plan)
  ) {
    // Every claimed row goes out with these pushes (older rows of other commands too).
    const settled = pushAndAwaitInSessions(env, plan, input.wait_seconds * 1000);
    return { command, warnings: resolved.warnings, settled };
  }
  try {
    await dispatchExecutions(env, ctx, nodeIds, claimed);
  } catch (err) {
    // The rows are written; the cron's re-dispatch delivers them if this fan-out was lost.
    log.warn("dispatch failed", { command_id: command.id, error: err });
  }
  return { command, warnings: resolved.warnings };
}
