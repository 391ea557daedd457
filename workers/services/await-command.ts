import { commandExecutionViews, countLiveExecutions } from "../../src/command-executions/store";
import type { WaitedExecution } from "../../src/commands/schema";
import type { Database } from "../../src/db/client";
import { isoOrNull } from "../../src/time";

/**
 * Pauses between polls of a synchronous command's executions (one indexed count each): short at
 * first, since most synchronous commands finish within a few hundred milliseconds and a fixed
 * 250 ms poll was most of their answer time (bench `sync`), then doubling up to 250 ms.
 */
const FIRST_POLL_MS = 20;
const POLL_MS = 250;

/**
 * Holds a synchronous command's answer (C11) until none of its executions is `pending` or `sent`,
 * or `waitSeconds` have passed, polling libSQL: the results arrive through the nodes' sessions and
 * the batch writers, so the database is where they meet. Returns every execution and whether all
 * had finished.
 */
export async function awaitCommand(
  db: Database,
  commandId: string,
  waitSeconds: number,
): Promise<{ executions: WaitedExecution[]; complete: boolean }> {
  const deadline = Date.now() + waitSeconds * 1000;
  let complete = false;
  let pause = FIRST_POLL_MS;
  for (;;) {
    complete = (await countLiveExecutions(db, commandId)) === 0;
    const left = deadline - Date.now();
    if (complete || left <= 0) break;
    await new Promise((resolve) => setTimeout(resolve, Math.min(pause, left)));
    pause = Math.min(pause * 2, POLL_MS);
  }
  const rows = await commandExecutionViews(db, commandId);
  return {
    complete,
    executions: rows.map((r) => ({
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
