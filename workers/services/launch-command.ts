import type { CommandCreateInput } from "../../src/commands/schema";
import { type CommandRow, createCommand } from "../../src/commands/store";
import type { Database } from "../../src/db/client";
import { describeError } from "../../src/db/errors";
import type { Env } from "../env";
import { dispatchExecutions, isDirectFanout } from "./dispatch";
import { resolveTargeting } from "./targeting";

/**
 * Creates a command and starts delivering it: resolves its targeting to node ids (422 when it
 * matches none), writes the command and its executions, then fans out to the nodes' sessions.
 * A small target set is claimed in the same write and pushed at once.
 */
export async function launchCommand(
  env: Env,
  ctx: { waitUntil(promise: Promise<unknown>): void },
  db: Database,
  input: CommandCreateInput,
): Promise<CommandRow> {
  const nodeIds = await resolveTargeting(db, input.targeting);
  const { command, claimed } = await createCommand(db, input, nodeIds, {
    claimUpTo: (count) => isDirectFanout(env, count),
  });
  try {
    await dispatchExecutions(env, ctx, nodeIds, claimed);
  } catch (err) {
    // The rows are written; the cron's re-dispatch delivers them if this fan-out was lost.
    console.warn(
      JSON.stringify({
        level: "warn",
        msg: "dispatch failed",
        command_id: command.id,
        error: describeError(err),
      }),
    );
  }
  return command;
}
