import { count, eq, getTableColumns, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { commandExecutions as ce, nodes } from "../db/schema";
import { ApiError } from "../errors";
import type { ListQuery } from "../list-query/engine";
import { listPage, type Page } from "../list-query/page";

export type ExecutionRow = typeof ce.$inferSelect;

/** Loads an execution or throws 404. */
export async function getExecution(db: Database, id: string): Promise<ExecutionRow> {
  const [row] = await db.select().from(ce).where(eq(ce.id, id)).limit(1);
  if (!row) throw new ApiError("not_found", "Command execution not found");
  return row;
}

/**
 * Characters of `output` a list row carries (M3): a page of 100 rows stays within a few MiB whatever
 * the outputs (each up to 1 MiB); the whole output is served by `GET /command_executions/{id}`.
 */
export const LIST_OUTPUT_LIMIT = 16 * 1024;

/** An execution as a list reads it: `output` cut to `LIST_OUTPUT_LIMIT` in SQL, and whether it was. */
export type ListedExecutionRow = ExecutionRow & { outputTruncated: boolean };

/** One page of executions for the list endpoint; outputs are cut in SQL, so a page never reads them whole. */
export function listExecutions(db: Database, q: ListQuery): Promise<Page<ListedExecutionRow>> {
  const columns = {
    ...getTableColumns(ce),
    output: sql<string | null>`substr(${ce.output}, 1, ${LIST_OUTPUT_LIMIT})`,
    outputTruncated: sql<boolean>`coalesce(length(${ce.output}) > ${LIST_OUTPUT_LIMIT}, 0)`.mapWith(Boolean),
  };
  return listPage(db, q, db.select(columns).from(ce), db.select({ total: count() }).from(ce));
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

/** An execution as a synchronous command's answer and the command stream show it, with its node's hostname. */
export interface CommandExecutionView {
  id: string;
  node_id: string | null;
  hostname: string | null;
  status: ExecutionRow["status"];
  exit_code: number | null;
  output: string | null;
  started_at: number | null;
  duration_ms: number | null;
  updated_at: number;
}

/** Every execution of a command in rollout order (else creation order), with its node's hostname. */
export function commandExecutionViews(db: Database, commandId: string): Promise<CommandExecutionView[]> {
  return db.all<CommandExecutionView>(sql`
    SELECT e.id, e.node_id, n.hostname, e.status, e.exit_code, e.output, e.started_at, e.duration_ms, e.updated_at
      FROM ${ce} e LEFT JOIN ${nodes} n ON n.id = e.node_id
     WHERE e.command_id = ${commandId}
     ORDER BY coalesce(e.rollout_rank, 0), e.inserted_at, e.id`);
}

/** How many of a command's executions are still `pending` or `sent` (one index range). */
export async function countLiveExecutions(db: Database, commandId: string): Promise<number> {
  const [row] = await db.all<{ n: number }>(
    sql`SELECT count(*) AS n FROM ${ce} WHERE command_id = ${commandId} AND status IN ('pending', 'sent')`,
  );
  return row?.n ?? 0;
}

/**
 * A command's executions changed at or after `since` (epoch ms), oldest change first: what the
 * command stream polls. Rows of a sent-but-live state carry no output.
 */
export function commandExecutionChanges(
  db: Database,
  commandId: string,
  since: number,
): Promise<CommandExecutionView[]> {
  return db.all<CommandExecutionView>(sql`
    SELECT e.id, e.node_id, n.hostname, e.status, e.exit_code,
           CASE WHEN e.status IN ('completed', 'cancelled', 'expired') THEN e.output END AS output,
           e.started_at, e.duration_ms, e.updated_at
      FROM ${ce} e LEFT JOIN ${nodes} n ON n.id = e.node_id
     WHERE e.command_id = ${commandId} AND e.updated_at >= ${since}
     ORDER BY e.updated_at, e.id`);
}
