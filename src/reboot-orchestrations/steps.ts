import { eq } from "drizzle-orm";
import { createCommand } from "../commands/store";
import type { Database } from "../db/client";
import { commandExecutions as ce } from "../db/schema";
import { MIN_POWER_DELAY_SECONDS, powerScript } from "../node-actions/scripts";
import { insertPowerAction } from "../power-actions/store";

// An orchestration's steps are typed commands on the parent, written straight to libSQL by the
// parent's own session (which then delivers them to its agent): the same rows, journal, events
// and expiry as any command, so a step is never run twice.

/** A queued power action is dropped this long after its scheduled time, as the power action routes do. */
const POWER_GRACE_MS = 5 * 60_000;

/** Writes a one-node typed command; returns its id. Its execution waits `pending` for delivery. */
export async function launchStepCommand(
  db: Database,
  nodeId: string,
  commandText: string,
  timeoutMs: number,
  expiredAt: number,
): Promise<string> {
  const { command } = await createCommand(
    db,
    {
      command_text: commandText,
      targeting: { type: "nodes", node_ids: [nodeId] },
      timeout: timeoutMs,
      expired_at: expiredAt,
    },
    [nodeId],
  );
  return command.id;
}

/** The one execution of a step command (null once the command was deleted). */
export async function stepExecution(db: Database, commandId: string | null) {
  if (!commandId) return null;
  const [row] = await db
    .select({ id: ce.id, status: ce.status, exitCode: ce.exitCode, output: ce.output })
    .from(ce)
    .where(eq(ce.commandId, commandId))
    .limit(1);
  return row ?? null;
}

/**
 * The reboot step: a power action (C9) due in the shortest delay, so the agent reports that it is
 * scheduled before the machine goes down; its confirmation (a hello with another boot id) is the
 * power action's. Returns the power action's id.
 */
export async function launchReboot(db: Database, nodeId: string, orchestrationId: string, now = Date.now()) {
  const id = crypto.randomUUID();
  const delaySeconds = MIN_POWER_DELAY_SECONDS;
  const scheduledAt = now + delaySeconds * 1000;
  const message = `Outpost: orchestrated reboot ${orchestrationId}`;
  const commandId = await launchStepCommand(
    db,
    nodeId,
    powerScript({ id, action: "reboot", delaySeconds, force: false, message }),
    60_000,
    scheduledAt + POWER_GRACE_MS,
  );
  const execution = await stepExecution(db, commandId);
  if (!execution) throw new Error("the reboot command has no execution (node deleted?)");
  await insertPowerAction(db, {
    id,
    nodeId,
    commandId,
    executionId: execution.id,
    action: "reboot",
    delaySeconds,
    force: false,
    message,
    unit: `outpost-power-${id}`,
    scheduledAt,
    insertedAt: now,
  });
  return id;
}
