import { isoOrNull, isoSeconds } from "../time";
import type { CommandExecutionResponse } from "./schema";
import type { ExecutionRow, ListedExecutionRow } from "./store";

/** Renders an execution row as the contract's `CommandExecutionResponse`. */
export function presentExecution(row: ExecutionRow): CommandExecutionResponse {
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
    started_at: isoOrNull(row.startedAt),
    duration_ms: row.durationMs,
    status: row.status,
    target_all: row.targetAll,
    timeout: row.timeout,
    updated_at: isoSeconds(row.updatedAt),
  };
}

/** A list row: as `presentExecution`, with `output_truncated` saying whether `output` was cut. */
export function presentListedExecution(row: ListedExecutionRow): CommandExecutionResponse {
  return { ...presentExecution(row), output_truncated: row.outputTruncated };
}
