import {
  type CommandExecutionView,
  commandExecutionViews,
  countLiveExecutions,
} from "../../src/command-executions/store";
import type { WaitedExecution } from "../../src/commands/schema";
import type { Database } from "../../src/db/client";
import { isoOrNull } from "../../src/time";

/**
 * Pause between polls during the first `FAST_FOR_MS`: most synchronous commands finish within a
 * few hundred milliseconds, and with a doubling pause (20, 40, 80 … ms) the answer waited on
 * average a good part of the last pause after the result was written (bench `sync`).
 */
const FAST_POLL_MS = 10;
const FAST_FOR_MS = 1_000;
/** Pause between polls after that: a long-running command costs four small reads a second. */
const POLL_MS = 250;
/**
 * Up to this many executions the poll reads the rows themselves (one indexed read, as cheap as a
 * count for a few rows), so the answer needs no read after the last poll; a larger command polls a
 * count and reads its rows once at the end.
 */
const READ_ROWS_UP_TO = 10;

const LIVE = new Set(["pending", "sent"]);

/**
 * Waits for the sessions' answer (`settled`, see `session-wait.ts`) while checking libSQL every
 * `POLL_MS` for executions that ended without a result reaching a session (cancelled while
 * `pending`, expired). Returns the sessions' executions when they all answered; null when libSQL
 * should be read instead (a session could not answer, the command ended another way, or time is up).
 */
async function fromSessions(
  db: Database,
  commandId: string,
  settled: Promise<WaitedExecution[] | null>,
  deadline: number,
): Promise<WaitedExecution[] | null> {
  const answer = settled.then((executions) => ({ executions }));
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) return null;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), Math.min(POLL_MS, left));
    });
    const first = await Promise.race([answer, tick]);
    clearTimeout(timer);
    if (first) return first.executions;
    if ((await countLiveExecutions(db, commandId)) === 0) return null;
  }
}

/**
 * Holds a synchronous command's answer (C11) until none of its executions is `pending` or `sent`,
 * or `waitSeconds` have passed. With `settled` (a small command whose nodes were connected), the
 * nodes' sessions answer as each result is written; otherwise, or when they cannot, it polls
 * libSQL, where the results arrive through the sessions and the batch writers. Returns every
 * execution and whether all had finished.
 */
export async function awaitCommand(
  db: Database,
  commandId: string,
  waitSeconds: number,
  settled?: Promise<WaitedExecution[] | null>,
): Promise<{ executions: WaitedExecution[]; complete: boolean }> {
  const started = Date.now();
  const deadline = started + waitSeconds * 1000;
  if (settled) {
    const executions = await fromSessions(db, commandId, settled, deadline);
    if (executions) return { executions, complete: true };
  }
  let rows: CommandExecutionView[] | null = null;
  let complete = false;
  for (let first = true; ; first = false) {
    if (first || (rows && rows.length <= READ_ROWS_UP_TO)) {
      rows = await commandExecutionViews(db, commandId);
      complete = rows.every((row) => !LIVE.has(row.status));
    } else {
      rows = null;
      complete = (await countLiveExecutions(db, commandId)) === 0;
    }
    const left = deadline - Date.now();
    if (complete || left <= 0) break;
    const pause = Date.now() - started < FAST_FOR_MS ? FAST_POLL_MS : POLL_MS;
    await new Promise((resolve) => setTimeout(resolve, Math.min(pause, left)));
  }
  const final = rows ?? (await commandExecutionViews(db, commandId));
  return {
    complete,
    executions: final.map((r) => ({
      id: r.id,
      node_id: r.node_id,
      hostname: r.hostname,
      status: r.status,
      exit_code: r.exit_code,
      output: r.output,
      started_at: isoOrNull(r.started_at),
      duration_ms: r.duration_ms,
    })),
  };
}
