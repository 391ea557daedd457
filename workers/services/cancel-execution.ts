import { getExecution } from "../../src/command-executions/store";
import type { Env } from "../../src/config";
import type { Database } from "../../src/db/client";
import { ApiError } from "../../src/errors";
import { cancelPending, requestCancel } from "../../src/executions/lifecycle";
import { createLogger } from "../../src/log";
import { advanceAndDeliver } from "./advance-rollout";
import { nodeSession } from "./node-sessions";

// Cancelling spans the execution's row and its node's session (the agent must be told), so it is
// service machinery rather than store SQL.

/** What `PATCH /command_executions/{id}/cancel` answers in `result`. */
export const CANCEL_RESULTS = {
  cancelled: "cancelled",
  sent: "cancellation request sent",
  offline:
    "cancellation requested; the agent is not connected, so the outcome is settled when it reports back",
} as const;

/**
 * Cancels an execution as the contract says: `pending` → `cancelled` at once;
 * `sent` → the cancel request is recorded and a `cancel` frame goes to the
 * agent, whose report settles it; terminal → 409. A status that changes under
 * us (delivery, a result) is re-read and handled by its new state.
 */
export async function cancelExecution(env: Env, db: Database, id: string): Promise<string> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const row = await getExecution(db, id);
    if (row.status === "pending") {
      if (await cancelPending(db, id)) {
        // A rollout's slot (or a held row) is free now: move it on without waiting for the cron.
        await advanceAndDeliver(env, db, row.commandId).catch((error) =>
          createLogger().warn("advancing a rollout after a cancel failed", { execution_id: id, error }),
        );
        return CANCEL_RESULTS.cancelled;
      }
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
