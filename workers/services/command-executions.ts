import { eq, sql } from "drizzle-orm";
import type { Database } from "../../src/db/client";
import { commandExecutions as ce } from "../../src/db/schema";
import { cancelPending, requestCancel } from "../../src/executions/lifecycle";
import { createLogger } from "../../src/log";
import { isoOrNull, isoSeconds } from "../../src/time";
import type { Env } from "../env";
import { ApiError } from "../errors";
import { nodeSession } from "./node-sessions";

export type ExecutionRow = typeof ce.$inferSelect;

/** The seed's `CommandExecutionResponse`. */
export function presentExecution(row: ExecutionRow) {
  return {
    cancelled_at: isoOrNull(row.cancelledAt),
    cluster_name: row.clusterName,
    command_id: row.commandId,
    command_text: row.commandText,
    completed_at: isoOrNull(row.completedAt),
    exit_code: row.exitCode,
    expired_at: isoOrNull(row.expiredAt),
    id: row.id,
    inserted_at: isoSeconds(row.insertedAt),
    node_id: row.nodeId,
    output: row.output,
    sent_at: isoOrNull(row.sentAt),
    status: row.status,
    target_all: row.targetAll,
    timeout: row.timeout,
    updated_at: isoSeconds(row.updatedAt),
  };
}

/** Loads an execution or throws 404. */
export async function getExecution(db: Database, id: string): Promise<ExecutionRow> {
  const [row] = await db.select().from(ce).where(eq(ce.id, id)).limit(1);
  if (!row) throw new ApiError("not_found", "Command execution not found");
  return row;
}

/** Deletes a terminal execution; a live one (`pending`/`sent`) is a 409. One conditional DELETE, so it can't race a state change. */
export async function deleteExecution(db: Database, id: string): Promise<void> {
  const result = await db.run(
    sql`DELETE FROM ${ce} WHERE ${ce.id} = ${id} AND ${ce.status} IN ('completed', 'cancelled', 'expired')`,
  );
  if (result.rowsAffected > 0) return;
  const row = await getExecution(db, id);
  throw new ApiError(
    "conflict",
    `Command execution is ${row.status}; only completed, cancelled or expired executions can be deleted`,
  );
}

export const CANCEL_RESULTS = {
  cancelled: "cancelled",
  sent: "cancellation request sent",
  offline:
    "cancellation requested; the agent is not connected, so the outcome is settled when it reports back",
} as const;

/**
 * Cancels an execution as the seed says: `pending` → `cancelled` at once;
 * `sent` → the cancel request is recorded and a `cancel` frame goes to the
 * agent, whose report settles it; terminal → 409. A status that changes under
 * us (delivery, a result) is re-read and handled by its new state.
 */
export async function cancelExecution(env: Env, db: Database, id: string): Promise<string> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const row = await getExecution(db, id);
    if (row.status === "pending") {
      if (await cancelPending(db, id)) return CANCEL_RESULTS.cancelled;
      continue;
    }
    if (row.status === "sent") {
      if (!(await requestCancel(db, id))) continue;
      if (!row.nodeId) return CANCEL_RESULTS.offline;
      let delivered: boolean;
      try {
        delivered = await nodeSession(env, row.nodeId).sendFrame({ type: "cancel", execution_id: id });
      } catch (err) {
        createLogger().error("cancel frame not sent", { execution_id: id, error: err });
        throw new ApiError(
          "service_unavailable",
          "The node's session could not be reached; retry the cancel",
        );
      }
      return delivered ? CANCEL_RESULTS.sent : CANCEL_RESULTS.offline;
    }
    throw new ApiError("conflict", `Command execution is already ${row.status}`);
  }
  throw new ApiError("conflict", "Command execution changed state while cancelling; retry");
}
