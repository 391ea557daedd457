import { EXECUTION_STATUSES } from "../db/schema";
import { isoOrNull, isoSeconds } from "../time";
import type { CommandResponse, CommandSummary } from "./schema";
import type { CommandRow, ExecutionTally } from "./store";

/** Renders a command row as the contract's `CommandResponse`; `targeting` as stored (deduplicated). */
export function presentCommand(row: CommandRow): CommandResponse {
  return {
    command_text: row.commandText,
    expired_at: isoOrNull(row.expiredAt),
    id: row.id,
    inserted_at: isoSeconds(row.insertedAt),
    targeting: JSON.parse(row.targeting) as CommandResponse["targeting"],
    timeout: row.timeout,
    updated_at: isoSeconds(row.updatedAt),
    rollout:
      row.maxConcurrency === null || row.concurrencyLimit === null || row.rolloutStatus === null
        ? null
        : {
            max_concurrency: row.maxConcurrency,
            max_errors: row.maxErrors,
            concurrency_limit: row.concurrencyLimit,
            error_limit: row.errorLimit,
            order: row.rolloutOrder ?? "oldest",
            status: row.rolloutStatus,
            reason: row.rolloutReason,
          },
  };
}

/** Renders a command's execution tally: every status counted (zero when absent), first and last completion. */
export function presentSummary(
  commandId: string,
  tally: ExecutionTally,
  rollout: CommandResponse["rollout"] = null,
): CommandSummary {
  const counts = Object.fromEntries(EXECUTION_STATUSES.map((s) => [s, 0])) as CommandSummary["counts"];
  let first: number | null = null;
  let last: number | null = null;
  for (const row of tally.byStatus) {
    counts[row.status] = row.n;
    if (row.first !== null && (first === null || row.first < first)) first = row.first;
    if (row.last !== null && (last === null || row.last > last)) last = row.last;
  }
  return {
    command_id: commandId,
    total: tally.byStatus.reduce((sum, r) => sum + r.n, 0),
    counts,
    exit_codes: Object.fromEntries(tally.byExitCode.map((r) => [String(r.exit_code), r.n])),
    first_completed_at: isoOrNull(first),
    last_completed_at: isoOrNull(last),
    // Only for a rollout: a plain command's summary keeps the shape it always had.
    ...(rollout ? { rollout } : {}),
  };
}

/**
 * Bytes of JSON one commands list page may spend on `command_text` and `targeting` (M3): a command
 * text is up to 64 KiB (six bytes per escaped control character) and a targeting list up to a 1 MiB
 * body, so 100 rows could reach 100 MiB. Past the budget, rows carry an empty `command_text`, their
 * targeting without its id and name lists, and `truncated: true`; `GET /api/v1/commands/{id}` serves
 * them whole.
 */
export const COMMAND_PAGE_BUDGET_BYTES = 4 * 1024 * 1024;

/** A page of commands within `COMMAND_PAGE_BUDGET_BYTES`, in order. */
export function presentCommandPage(rows: CommandRow[]): CommandResponse[] {
  let spent = 0;
  return rows.map((row) => {
    const command = presentCommand(row);
    const size = new TextEncoder().encode(JSON.stringify([command.command_text, command.targeting])).length;
    if (spent + size <= COMMAND_PAGE_BUDGET_BYTES) {
      spent += size;
      return command;
    }
    const { node_ids, cluster_names, hostnames, ...targeting } = command.targeting;
    return {
      ...command,
      command_text: "",
      targeting: {
        ...targeting,
        ...(node_ids ? { node_ids: [] } : {}),
        ...(cluster_names ? { cluster_names: [] } : {}),
        ...(hostnames ? { hostnames: [] } : {}),
      },
      truncated: true,
    };
  });
}
