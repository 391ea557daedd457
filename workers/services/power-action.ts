import { sql } from "drizzle-orm";
import { targetsInScope } from "../../src/access/cluster-scope";
import { resolveLimit } from "../../src/commands/rollout-limits";
import type { Env } from "../../src/config";
import type { Database } from "../../src/db/client";
import { nodes } from "../../src/db/schema";
import { ApiError } from "../../src/errors";
import type { FleetPowerActionInput, PowerActionInput } from "../../src/node-actions/schema";
import { cancelPowerScript, MIN_POWER_DELAY_SECONDS, powerScript } from "../../src/node-actions/scripts";
import { presentPowerAction } from "../../src/power-actions/present";
import { POWER_SLOT_TIMEOUT_MS } from "../../src/power-actions/rollout";
import type { PowerActionResponse } from "../../src/power-actions/schema";
import {
  getPowerAction,
  insertPowerAction,
  insertPowerActionsForCommand,
  markPowerActionCancelled,
} from "../../src/power-actions/store";
import { cancelExecution } from "./cancel-execution";
import { launchCommand } from "./launch-command";
import { launchNodeAction } from "./node-action";
import { resolveTargetingWithWarnings } from "./targeting";

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
  // A waiting one (held back by max_concurrency) has no schedule yet: it can always be cancelled.
  const waiting = row.status === "waiting";
  if (
    !waiting &&
    (!(row.status === "pending" || row.status === "scheduled") || row.scheduledAt <= Date.now())
  )
    throw new ApiError(
      "conflict",
      `Power action is ${row.status === "scheduled" ? "due" : row.status}; it can no longer be cancelled`,
    );
  if (!(await markPowerActionCancelled(db, id)))
    throw new ApiError("conflict", "Power action is due or already cancelled");
  if (waiting || row.status === "pending") {
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

/**
 * When a fleet power action's undelivered executions expire: 5 minutes after the scheduled time,
 * and with `max_concurrency` one worst-case turn (delay plus the slot timeout) later per wave, so a
 * waiting node is not expired while its turn is still coming, yet a queued reboot is never
 * delivered long after the rollout could have reached it.
 */
function fleetExpiry(scheduledAt: number, body: FleetPowerActionInput, targets: number): number {
  if (body.max_concurrency === undefined) return scheduledAt + POWER_GRACE_MS;
  const waves = Math.ceil(targets / resolveLimit(body.max_concurrency, targets, 1));
  const turnMs = Math.max(MIN_POWER_DELAY_SECONDS, body.delay_seconds) * 1000 + POWER_SLOT_TIMEOUT_MS;
  return scheduledAt + POWER_GRACE_MS + (waves - 1) * turnMs;
}

/**
 * The fleet form (C9): one typed command over every node the targeting matches, one power action
 * per node, all due at the same time. Unless `queue`, any unreachable target is a 503 naming them
 * (a reboot delivered days later is dangerous), so nothing is half-scheduled. With
 * `max_concurrency` the command is a rollout: the nodes past the window wait (`waiting`), oldest
 * first, and each is scheduled `delay_seconds` after its turn comes (`power-actions/rollout.ts`).
 */
export async function createFleetPowerActions(
  env: Env,
  ctx: Ctx,
  db: Database,
  body: FleetPowerActionInput,
  clusterScope: readonly string[] | null,
): Promise<{ actions: PowerActionResponse[]; warnings: string[] }> {
  const resolved = await resolveTargetingWithWarnings(db, body.targeting);
  const nodeIds = await targetsInScope(db, resolved.nodeIds, clusterScope);
  if (!body.queue) {
    const offline = await db.all<{ id: string }>(sql`SELECT id FROM ${nodes}
      WHERE id IN (SELECT value FROM json_each(${JSON.stringify(nodeIds)})) AND status = 'unreachable'`);
    if (offline.length > 0)
      throw new ApiError("service_unavailable", "The agents of some targeted nodes are not connected", {
        node_ids: offline.map((r) => r.id),
        node_status: offline.map(() => "unreachable"),
      });
  }
  const id = crypto.randomUUID();
  const unit = `outpost-power-${id}`;
  const now = Date.now();
  const scheduledAt = now + Math.max(MIN_POWER_DELAY_SECONDS, body.delay_seconds) * 1000;
  const { command } = await launchCommand(
    env,
    ctx,
    db,
    {
      command_text: powerScript({
        id,
        action: body.action,
        delaySeconds: body.delay_seconds,
        force: body.force,
        message: body.message,
      }),
      targeting: { type: "nodes", node_ids: nodeIds },
      timeout: 60_000,
      expired_at: fleetExpiry(scheduledAt, body, nodeIds.length),
      ...(body.max_concurrency === undefined ? {} : { max_concurrency: body.max_concurrency }),
    },
    clusterScope,
  );
  const ids = await insertPowerActionsForCommand(db, command.id, {
    action: body.action,
    delaySeconds: body.delay_seconds,
    force: body.force,
    message: body.message ?? null,
    unit,
    scheduledAt,
    insertedAt: now,
  });
  const actions = await Promise.all(ids.map(async (x) => presentPowerAction(await getPowerAction(db, x))));
  return { actions, warnings: resolved.warnings };
}
