import type { Database } from "../db/client";
import { ApiError } from "../errors";
import { cancelPending } from "../executions/lifecycle";
import { getPowerAction } from "../power-actions/store";
import type { RestartChild, SnapshotChild } from "./schema";
import { parseChildLines, startChildrenScript, stopChildrenScript } from "./scripts";
import { launchReboot, launchStepCommand, stepExecution } from "./steps";
import { applyStep, getRebootOrchestration, type RebootOrchestrationRow } from "./store";

/** How long the parent's agent has to come back after the reboot is issued. */
export const AGENT_WAIT_MS = 15 * 60_000;
/** A start step's budget per child (each engine's start is quick; a hung one must not stall the rest). */
const START_SECONDS_PER_CHILD = 60;

/** What driving needs from the parent's session. */
export interface DriveHost {
  db: Database;
  nodeId: string;
  /** Sends the node's pending executions to its agent, when one is connected. */
  deliver(): Promise<void>;
}

const TERMINAL = new Set(["completed", "cancelled", "expired"]);

function tailOf(output: string | null): string {
  const text = (output ?? "").trim();
  return text.length > 300 ? `…${text.slice(-300)}` : text;
}

/** Snapshot children in the shape the scripts take. */
function stepChildren(snapshot: SnapshotChild[]) {
  return snapshot.map((c) => ({ child_type: c.child_type, child_name: c.child_name }));
}

/** The restart list after the stop step: a child that was already down is not started again. */
function afterStop(snapshot: SnapshotChild[], output: string | null): RestartChild[] {
  const lines = parseChildLines(output);
  return snapshot.map((c, i) =>
    lines.get(i)?.outcome === "not_running"
      ? {
          id: c.id,
          child_name: c.child_name,
          restart_status: "skipped",
          error: "was not running when the shutdown began",
        }
      : { id: c.id, child_name: c.child_name, restart_status: "pending", error: null },
  );
}

/** The restart list after the start step, from each child's line. */
function afterStart(
  restart: RestartChild[],
  execution: { status: string; output: string | null } | null,
): RestartChild[] {
  const lines = parseChildLines(execution?.output ?? null);
  const missingLine =
    execution?.status === "completed"
      ? "no result for this child"
      : `the start step ${execution?.status ?? "vanished"}`;
  let k = 0;
  return restart.map((c) => {
    if (c.restart_status !== "pending") return c;
    const line = lines.get(k++);
    if (!line) return { ...c, restart_status: "failed", error: missingLine };
    if (line.outcome === "running" || line.outcome === "already_running")
      return { ...c, restart_status: "running", error: null };
    if (line.outcome === "missing") return { ...c, restart_status: "skipped", error: "no longer exists" };
    return { ...c, restart_status: "failed", error: line.detail || line.outcome };
  });
}

/** Starts the children still `pending` in the restart list (a typed command); null when none is. */
async function launchStart(host: DriveHost, snapshot: SnapshotChild[], restart: RestartChild[]) {
  const todo = snapshot.filter((_, i) => restart[i]?.restart_status === "pending");
  if (todo.length === 0) return null;
  const seconds = START_SECONDS_PER_CHILD * todo.length + 30;
  return launchStepCommand(
    host.db,
    host.nodeId,
    startChildrenScript(stepChildren(todo)),
    seconds * 1000,
    Date.now() + AGENT_WAIT_MS + seconds * 1000,
  );
}

/**
 * Moves one orchestration on by at most one step, from what libSQL says (so it resumes wherever a
 * restart left it): pending → shutting_down (stop step sent) → rebooting (children stopped; the
 * reboot sent as a power action) → waiting_for_agent (the agent scheduled it) → restarting_children
 * (a hello with another boot id confirmed it; start step sent) → completed. A failed or cancelled
 * orchestration whose children were stopped but whose reboot was never issued starts them again.
 * Returns whether it needs driving again.
 */
export async function driveOrchestration(host: DriveHost, id: string, now = Date.now()): Promise<boolean> {
  let row: RebootOrchestrationRow;
  try {
    row = await getRebootOrchestration(host.db, id);
  } catch (error) {
    if (error instanceof ApiError) return false;
    throw error;
  }
  const { db } = host;
  const snapshot = JSON.parse(row.childHostsSnapshot) as SnapshotChild[];
  const restart = JSON.parse(row.childHostsRestartStatus) as RestartChild[];
  switch (row.status) {
    case "pending": {
      const stopCommandId = await launchStepCommand(
        db,
        host.nodeId,
        stopChildrenScript(stepChildren(snapshot), row.shutdownTimeoutSeconds, row.forceStopOnTimeout),
        (row.shutdownTimeoutSeconds + 60) * 1000,
        now + (row.shutdownTimeoutSeconds + 60) * 1000 + AGENT_WAIT_MS,
      );
      if (!(await applyStep(db, row, "pending", { status: "shutting_down", stopCommandId }, now))) {
        // Cancelled meanwhile: the step never went out.
        const execution = await stepExecution(db, stopCommandId);
        if (execution) await cancelPending(db, execution.id, now);
        return true;
      }
      await host.deliver();
      return true;
    }
    case "shutting_down": {
      const execution = await stepExecution(db, row.stopCommandId);
      if (execution && !TERMINAL.has(execution.status)) return true;
      const after = afterStop(snapshot, execution?.output ?? null);
      if (execution?.status !== "completed" || execution.exitCode !== 0) {
        const why =
          execution?.status === "completed"
            ? `stopping the children failed: ${tailOf(execution.output)}`
            : `the stop step was ${execution?.status ?? "deleted"}`;
        await applyStep(
          db,
          row,
          "shutting_down",
          { status: "failed", errorMessage: why, restart: after },
          now,
        );
        return true; // the children that did stop are started again
      }
      const powerActionId = await launchReboot(db, host.nodeId, row.id, now);
      const moved = await applyStep(
        db,
        row,
        "shutting_down",
        { status: "rebooting", shutdownCompletedAt: now, powerActionId, restart: after },
        now,
      );
      if (moved) await host.deliver();
      else {
        const pa = await getPowerAction(db, powerActionId);
        await cancelPending(db, pa.executionId, now);
      }
      return true;
    }
    case "rebooting": {
      const pa = await getPowerAction(db, row.powerActionId ?? "");
      if (pa.status === "pending") return true;
      if (pa.status === "scheduled" || pa.status === "issued" || pa.status === "completed") {
        await applyStep(db, row, "rebooting", { status: "waiting_for_agent", rebootIssuedAt: now }, now);
        return true;
      }
      const execution = await stepExecution(db, pa.commandId);
      await applyStep(
        db,
        row,
        "rebooting",
        {
          status: "failed",
          errorMessage: `the reboot was not scheduled (${pa.status}): ${tailOf(execution?.output ?? null)}`,
        },
        now,
      );
      return true;
    }
    case "waiting_for_agent": {
      const pa = await getPowerAction(db, row.powerActionId ?? "");
      if (pa.confirmedAt === null) {
        if (now - (row.rebootIssuedAt ?? now) < AGENT_WAIT_MS) return true;
        await applyStep(
          db,
          row,
          "waiting_for_agent",
          {
            status: "failed",
            errorMessage: "the agent did not come back with a new boot id within 15 minutes",
          },
          now,
        );
        return false;
      }
      const startCommandId = await launchStart(host, snapshot, restart);
      if (startCommandId === null) {
        await applyStep(
          db,
          row,
          "waiting_for_agent",
          { status: "completed", agentReconnectedAt: pa.confirmedAt, restartCompletedAt: now },
          now,
        );
        return false;
      }
      const moved = await applyStep(
        db,
        row,
        "waiting_for_agent",
        { status: "restarting_children", agentReconnectedAt: pa.confirmedAt, startCommandId },
        now,
      );
      if (moved) await host.deliver();
      return true;
    }
    case "restarting_children": {
      const execution = await stepExecution(db, row.startCommandId);
      if (execution && !TERMINAL.has(execution.status)) return true;
      const ok = execution?.status === "completed";
      await applyStep(
        db,
        row,
        "restarting_children",
        {
          status: ok ? "completed" : "failed",
          restartCompletedAt: now,
          restart: afterStart(restart, execution),
          ...(ok ? {} : { errorMessage: `the start step was ${execution?.status ?? "deleted"}` }),
        },
        now,
      );
      return false;
    }
    case "failed":
    case "cancelled":
      return undoStop(host, row, snapshot, restart, now);
    case "completed":
      return false;
  }
}

/**
 * After a failure or cancel before the reboot was issued: once the stop step is over (a step not
 * yet delivered is cancelled), starts again the children it stopped, and records how that went.
 */
async function undoStop(
  host: DriveHost,
  row: RebootOrchestrationRow,
  snapshot: SnapshotChild[],
  restart: RestartChild[],
  now: number,
): Promise<boolean> {
  const { db } = host;
  if (row.stopCommandId === null || row.rebootIssuedAt !== null || row.restartCompletedAt !== null)
    return false;
  if (row.startCommandId === null) {
    const stop = await stepExecution(db, row.stopCommandId);
    if (stop?.status === "pending") await cancelPending(db, stop.id, now);
    else if (stop && !TERMINAL.has(stop.status)) return true; // let it finish (it has a timeout)
    // A stop step that ran says which children it found down (those stay down).
    const list = stop?.status === "completed" ? afterStop(snapshot, stop.output) : restart;
    const startCommandId = await launchStart(host, snapshot, list);
    if (startCommandId === null) {
      await applyStep(db, row, row.status, { restartCompletedAt: now, restart: list }, now);
      return false;
    }
    if (await applyStep(db, row, row.status, { startCommandId, restart: list }, now)) await host.deliver();
    return true;
  }
  const execution = await stepExecution(db, row.startCommandId);
  if (execution && !TERMINAL.has(execution.status)) return true;
  await applyStep(
    db,
    row,
    row.status,
    { restartCompletedAt: now, restart: afterStart(restart, execution) },
    now,
  );
  return false;
}
