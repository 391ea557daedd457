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

/**
 * Bytes of JSON-encoded `output` one list page carries (M3). The per-row cap bounds characters, but
 * JSON escapes a control character into six bytes: 100 rows of 16,384 such characters would be a
 * 9.6 MiB page. Past the budget, rows carry an empty `output` marked `output_truncated`.
 */
export const PAGE_OUTPUT_BUDGET_BYTES = 4 * 1024 * 1024;

/** A page of list rows within `PAGE_OUTPUT_BUDGET_BYTES` of output, in order. */
export function presentExecutionPage(rows: ListedExecutionRow[]): CommandExecutionResponse[] {
  let spent = 0;
  return rows.map((row) => {
    const listed = presentListedExecution(row);
    // command_text (64 KiB, six bytes per escaped character) counts too: it rides on every row.
    const size = jsonBytes(listed.output) + jsonBytes(listed.command_text);
    if (spent + size > PAGE_OUTPUT_BUDGET_BYTES)
      return {
        ...listed,
        output: listed.output === null ? null : "",
        command_text: listed.command_text === null ? null : "",
        output_truncated: true,
      };
    spent += size;
    return listed;
  });
}

function jsonBytes(value: string | null): number {
  return value === null ? 0 : new TextEncoder().encode(JSON.stringify(value)).length;
}
