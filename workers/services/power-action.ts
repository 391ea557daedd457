import type { Env } from "../../src/config";
import type { Database } from "../../src/db/client";
import { ApiError } from "../../src/errors";
import type { PowerActionInput } from "../../src/node-actions/schema";
import { cancelPowerScript, MIN_POWER_DELAY_SECONDS, powerScript } from "../../src/node-actions/scripts";
import { presentPowerAction } from "../../src/power-actions/present";
import type { PowerActionResponse } from "../../src/power-actions/schema";
import { getPowerAction, insertPowerAction, markPowerActionCancelled } from "../../src/power-actions/store";
import { cancelExecution } from "./cancel-execution";
import { launchNodeAction } from "./node-action";

type Ctx = { waitUntil(promise: Promise<unknown>): void };

/** A queued power action is dropped this long after its scheduled time (a reboot days late is dangerous). */
const POWER_GRACE_MS = 5 * 60_000;

/**
 * Schedules a reboot or power-off on one node (C9) as a typed command, and records it as a power
 * action that can be listed and cancelled until it is due.
 */
export async function createPowerAction(
  env: Env,
  ctx: Ctx,
  db: Database,
  nodeId: string,
  body: PowerActionInput,
  clusterScope: readonly string[] | null,
): Promise<PowerActionResponse> {
  const id = crypto.randomUUID();
  const unit = `outpost-power-${id}`;
  const now = Date.now();
  const scheduledAt = now + Math.max(MIN_POWER_DELAY_SECONDS, body.delay_seconds) * 1000;
  const launched = await launchNodeAction(
    env,
    ctx,
    db,
    nodeId,
    {
      kind: "power",
      action: body.action,
      target: null,
      commandText: powerScript({
        id,
        action: body.action,
        delaySeconds: body.delay_seconds,
        force: body.force,
        message: body.message,
      }),
      timeoutMs: 60_000,
      scheduledAt,
      expiredAt: scheduledAt + POWER_GRACE_MS,
      requireOnline: !body.queue,
    },
    clusterScope,
  );
  await insertPowerAction(db, {
    id,
    nodeId,
    commandId: launched.command_id,
    executionId: launched.execution_id,
    action: body.action,
    delaySeconds: body.delay_seconds,
    force: body.force,
    message: body.message ?? null,
    unit,
    scheduledAt,
    insertedAt: now,
  });
  return presentPowerAction(await getPowerAction(db, id));
}

/**
 * Cancels a power action before it is due: an execution not yet run is cancelled; one that may
 * have scheduled it on the machine is followed by a command that stops the timer (or cancels the
 * pending `shutdown`). 409 once it is due, failed, expired or already cancelled.
 */
export async function cancelPowerAction(
  env: Env,
  ctx: Ctx,
  db: Database,
  id: string,
  clusterScope: readonly string[] | null,
): Promise<PowerActionResponse> {
  const row = await getPowerAction(db, id);
  if (!(row.status === "pending" || row.status === "scheduled") || row.scheduledAt <= Date.now())
    throw new ApiError(
      "conflict",
      `Power action is ${row.status === "scheduled" ? "due" : row.status}; it can no longer be cancelled`,
    );
  if (!(await markPowerActionCancelled(db, id)))
    throw new ApiError("conflict", "Power action is due or already cancelled");
  if (row.status === "pending") {
    // Not run yet: cancelling the execution is enough. A cancel that loses to the script (already
    // running) falls through to stopping the timer below.
    const result = await cancelExecution(env, db, row.executionId).catch(() => null);
    if (result === "cancelled") return presentPowerAction(await getPowerAction(db, id));
  }
  if (row.nodeId)
    await launchNodeAction(
      env,
      ctx,
      db,
      row.nodeId,
      {
        kind: "power",
        action: "cancel",
        target: row.unit,
        commandText: cancelPowerScript(row.unit),
        timeoutMs: 60_000,
        expiredAt: row.scheduledAt,
        requireOnline: false,
      },
      clusterScope,
    );
  return presentPowerAction(await getPowerAction(db, id));
}
