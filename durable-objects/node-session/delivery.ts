import { and, eq, inArray, sql } from "drizzle-orm";
import type { Connection } from "partyserver";
import type { Database } from "../../src/db/client";
import { retryTransient } from "../../src/db/retry";
import { commandExecutions as ce } from "../../src/db/schema";
import {
  type ClaimedExecution,
  claimPending,
  DELIVERY_BATCH,
  markSent,
} from "../../src/executions/lifecycle";
import { encodeServerFrame } from "../../src/protocol/frames";
import type { FinalState } from "./live-output";

/** Sends one `exec` (and its `cancel` when one was requested while the agent was away). */
export function sendExec(conn: Connection, row: Omit<ClaimedExecution, "inserted_at">): void {
  conn.send(
    encodeServerFrame({
      type: "exec",
      execution_id: row.id,
      command: row.command_text,
      timeout_ms: row.timeout,
    }),
  );
  // A cancel requested while the agent was away follows its exec: a running copy is stopped, an
  // unseen one is started and stopped at once, and either way the row ends `cancelled` (143).
  if (row.cancel_requested_at !== null)
    conn.send(encodeServerFrame({ type: "cancel", execution_id: row.id }));
}

/**
 * Sends the node's live executions to its agent, oldest first.
 *
 * A routine delivery claims the `pending` rows (`sent`) and sends what it claimed, in one database
 * round trip. If the object dies between the claim and the send, the row is `sent` but unseen: the
 * agent gets it again on its next connection, and the cron re-delivers `sent` rows that stay
 * unfinished (`resend`).
 *
 * With `resend` (after a reconnect, or from the cron), rows already `sent` go out again too: the
 * agent's journal guarantees an id never runs twice, so resending is always safe. Those frames go
 * out before the `pending` rows among them are marked.
 */
export async function deliverExecutions(
  db: Database,
  nodeId: string,
  conn: Connection,
  options: { resend: boolean },
): Promise<number> {
  if (!options.resend) {
    const claimed = await retryTransient(() => claimPending(db, nodeId, DELIVERY_BATCH));
    for (const row of claimed) sendExec(conn, row);
    return claimed.length;
  }
  return resendLive(db, nodeId, conn, await db.all<LiveExecution>(liveExecutionsQuery(nodeId)));
}

/** A `pending` or `sent` row as `liveExecutionsQuery` reads it. */
export interface LiveExecution {
  id: string;
  command_text: string;
  timeout: number | null;
  status: string;
  cancel_requested_at: number | null;
}

/** The node's live rows, oldest first (at most `DELIVERY_BATCH`). */
export function liveExecutionsQuery(nodeId: string) {
  return sql`
    SELECT id, command_text, timeout, status, cancel_requested_at FROM ${ce}
     WHERE node_id = ${nodeId} AND status IN ('pending', 'sent') AND held = 0 AND (expired_at IS NULL OR expired_at > ${Date.now()})
     ORDER BY inserted_at, id LIMIT ${DELIVERY_BATCH}`;
}

/** Sends every live row (already read), then marks the `pending` ones `sent`. */
export async function resendLive(
  db: Database,
  nodeId: string,
  conn: Connection,
  rows: LiveExecution[],
): Promise<number> {
  for (const row of rows) sendExec(conn, row);
  const pending = rows.filter((r) => r.status === "pending").map((r) => r.id);
  // Conditional (`pending` → `sent`), so a repeat after a lost answer changes nothing.
  await retryTransient(() => markSent(db, nodeId, pending));
  return rows.length;
}

const TERMINAL = ["completed", "cancelled", "expired"];

/**
 * How an execution ended, for a live-output subscriber's poll: its final state once terminal (or
 * `deleted` when the row is gone), null while it is still live.
 */
export async function finalState(db: Database, executionId: string): Promise<FinalState | null> {
  const [row] = await db
    .select({ status: ce.status, exit_code: ce.exitCode })
    .from(ce)
    .where(eq(ce.id, executionId));
  if (!row) return { status: "deleted", exit_code: null };
  return TERMINAL.includes(row.status) ? row : null;
}

/** Whether `executionId` is one of this node's live executions (what live output may be for). */
export async function isLiveExecution(db: Database, nodeId: string, executionId: string): Promise<boolean> {
  const rows = await db
    .select({ id: ce.id })
    .from(ce)
    .where(and(eq(ce.id, executionId), eq(ce.nodeId, nodeId), inArray(ce.status, ["pending", "sent"])));
  return rows.length > 0;
}
