import { sql } from "drizzle-orm";
import type { Connection } from "partyserver";
import type { Database } from "../../src/db/client";
import { commandExecutions as ce } from "../../src/db/schema";
import { markSent } from "../../src/executions/lifecycle";
import { encodeServerFrame } from "../../src/protocol/frames";

/** Most executions handed to an agent in one delivery round; the rest follow on the next round. */
export const DELIVERY_BATCH = 500;

/**
 * Sends the node's live executions to its agent, oldest first, then marks the
 * `pending` ones `sent`. With `resend`, rows already `sent` go out again too
 * (after a reconnect the agent may never have received them); the agent's
 * journal guarantees an id never runs twice, so resending is always safe.
 * The frame goes out before the row is marked: a crash in between leaves the
 * row `pending` and it is delivered again, never lost.
 */
export async function deliverExecutions(
  db: Database,
  nodeId: string,
  conn: Connection,
  options: { resend: boolean },
): Promise<number> {
  const states = options.resend ? sql`('pending', 'sent')` : sql`('pending')`;
  const rows = await db.all<{
    id: string;
    command_text: string;
    timeout: number | null;
    status: string;
    cancel_requested_at: number | null;
  }>(sql`
    SELECT id, command_text, timeout, status, cancel_requested_at FROM ${ce}
     WHERE node_id = ${nodeId} AND status IN ${states} AND (expired_at IS NULL OR expired_at > ${Date.now()})
     ORDER BY inserted_at, id LIMIT ${DELIVERY_BATCH}`);
  for (const row of rows) {
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
  await markSent(
    db,
    nodeId,
    rows.filter((r) => r.status === "pending").map((r) => r.id),
  );
  return rows.length;
}
