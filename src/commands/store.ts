import { count, eq, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { Database } from "../db/client";
import { commandExecutions as ce, commands, type EXECUTION_STATUSES, nodes } from "../db/schema";
import { ApiError } from "../errors";
import { recordEventWhere } from "../events/outbox";
import {
  type ClaimedExecution,
  type ClaimedNodeExecution,
  claimPendingForNodesStatements,
  DELIVERY_BATCH,
  groupClaimedByNode,
} from "../executions/lifecycle";
import type { ListQuery } from "../list-query/engine";
import { listPage, type Page } from "../list-query/page";
import type { Targeting } from "../targeting/schema";
import { resolveLimit } from "./rollout-limits";
import type { CommandCreateInput } from "./schema";

export type CommandRow = typeof commands.$inferSelect;

function shuffled<T>(items: T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/** Execution rows per insert statement: keeps each statement small whatever the fleet size. */
export const EXECUTIONS_PER_STATEMENT = 500;

/** Loads a command or throws 404. */
export async function getCommand(db: Database, id: string): Promise<CommandRow> {
  const [row] = await db.select().from(commands).where(eq(commands.id, id)).limit(1);
  if (!row) throw new ApiError("not_found", "Command not found");
  return row;
}

/** One page of commands for the list endpoint. */
export function listCommands(db: Database, q: ListQuery): Promise<Page<CommandRow>> {
  return listPage(db, q, db.select().from(commands), db.select({ total: count() }).from(commands));
}

// The one cluster an execution records: set only when the command targeted exactly one cluster.
function singleCluster(targeting: Targeting): string | null {
  const names = targeting.type === "clusters" ? (targeting.cluster_names ?? []) : [];
  return names.length === 1 ? (names[0] ?? null) : null;
}

/**
 * Writes the command, one `pending` execution per node of `nodeIds` (resolved from its targeting
 * by the caller) and one `edge.command_execution.created` event per execution, in one batch.
 *
 * `claimUpTo`: when the target set has at most this many nodes, the same batch also claims the
 * `pending` rows of those that are connected (`sent`, as a delivery would) and returns them in
 * `claimed`, ready to push to the sessions: a small command reaches its agents without another
 * database round trip.
 */
export async function createCommand(
  db: Database,
  input: CommandCreateInput,
  nodeIds: string[],
  options: { claimUpTo?: (nodeCount: number) => boolean; now?: number } = {},
): Promise<{
  command: CommandRow;
  claimed?: Map<string, ClaimedExecution[]>;
  /** The execution id chosen for each node (a node deleted meanwhile got no row). */
  executionIds: Map<string, string>;
}> {
  const now = options.now ?? Date.now();
  const { targeting } = input;
  const rollout = input.max_concurrency !== undefined;
  const concurrencyLimit = rollout ? resolveLimit(input.max_concurrency ?? "", nodeIds.length, 1) : null;
  const command: CommandRow = {
    id: crypto.randomUUID(),
    commandText: input.command_text,
    targeting: JSON.stringify(targeting),
    timeout: input.timeout ?? null,
    expiredAt: input.expired_at ?? null,
    maxConcurrency: input.max_concurrency ?? null,
    maxErrors: input.max_errors ?? null,
    concurrencyLimit,
    errorLimit: input.max_errors === undefined ? null : resolveLimit(input.max_errors, nodeIds.length, 0),
    rolloutOrder: rollout ? (input.rollout_order ?? "oldest") : null,
    rolloutStatus: rollout ? "running" : null,
    rolloutReason: null,
    insertedAt: now,
    updatedAt: now,
  };
  // A rollout's order is the order of `nodeIds` (oldest node first), or a shuffle of it; the rows
  // past the window are held back until the rollout releases them.
  const ordered = command.rolloutOrder === "random" ? shuffled(nodeIds) : nodeIds;
  const clusterName = singleCluster(targeting);
  const targetAll = targeting.type === "all" ? 1 : 0;

  const statements: [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]] = [db.insert(commands).values(command)];
  const window = concurrencyLimit ?? Number.POSITIVE_INFINITY;
  const executionIds = new Map(ordered.map((nodeId) => [nodeId, crypto.randomUUID()]));
  for (let i = 0; i < ordered.length; i += EXECUTIONS_PER_STATEMENT) {
    const pairs = ordered
      .slice(i, i + EXECUTIONS_PER_STATEMENT)
      .map((id, k) => [executionIds.get(id), id, rollout ? i + k : null, i + k >= window ? 1 : 0]);
    // One bound JSON array per statement (no per-row variables); the denormalised text comes from
    // the command row, not from repeated parameters; joining `nodes` skips a node deleted meanwhile.
    statements.push(
      db.run(sql`INSERT INTO ${ce} (id, command_id, node_id, cluster_name, target_all, command_text, timeout,
                                    expired_at, status, rollout_rank, held, inserted_at, updated_at)
        SELECT json_extract(p.value, '$[0]'), c.id, n.id, ${clusterName}, ${targetAll}, c.command_text, c.timeout,
               c.expired_at, 'pending', json_extract(p.value, '$[2]'), json_extract(p.value, '$[3]'), ${now}, ${now}
          FROM json_each(${JSON.stringify(pairs)}) p
          JOIN ${nodes} n ON n.id = json_extract(p.value, '$[1]')
          JOIN ${commands} c ON c.id = ${command.id}
         ORDER BY p.key`),
    );
  }
  statements.push(
    recordEventWhere(
      db,
      "edge.command_execution.created",
      sql`json_object('execution_id', e.id, 'command_id', e.command_id, 'node_id', e.node_id, 'cluster_name', e.cluster_name, 'target_all', json(CASE WHEN e.target_all THEN 'true' ELSE 'false' END))`,
      sql`FROM ${ce} e WHERE e.command_id = ${command.id}`,
      now,
    ),
  );
  const claim = options.claimUpTo?.(nodeIds.length) ?? false;
  if (claim) statements.push(...claimPendingForNodesStatements(db, nodeIds, DELIVERY_BATCH, now));
  const results = await db.batch(statements);
  if (!claim) return { command, executionIds };
  // The claim is the batch's last statement; its rows are the executions it moved to `sent`.
  return {
    command,
    executionIds,
    claimed: groupClaimedByNode(results.at(-1) as ClaimedNodeExecution[]),
  };
}

/**
 * Deletes a command and (by cascade) its executions, only while none is
 * `pending` or `sent`: one conditional DELETE, so a racing create can't slip in.
 */
export async function deleteCommand(db: Database, id: string): Promise<void> {
  const result = await db.run(sql`DELETE FROM ${commands} WHERE ${commands.id} = ${id}
      AND NOT EXISTS (SELECT 1 FROM ${ce} WHERE ${ce.commandId} = ${id} AND ${ce.status} IN ('pending', 'sent'))`);
  if (result.rowsAffected > 0) return;
  await getCommand(db, id);
  throw new ApiError(
    "conflict",
    "Command has pending or sent executions; cancel them or wait until they finish before deleting it",
  );
}

type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];

/** One command's executions: count and completion times per status, and a histogram of exit codes. */
export interface ExecutionTally {
  byStatus: { status: ExecutionStatus; n: number; first: number | null; last: number | null }[];
  byExitCode: { exit_code: number; n: number }[];
}

/** Tallies one command's executions (two aggregate queries). */
export async function tallyExecutions(db: Database, id: string): Promise<ExecutionTally> {
  const [byStatus, byExitCode] = await Promise.all([
    db.all<ExecutionTally["byStatus"][number]>(sql`
      SELECT status, count(*) AS n, min(completed_at) AS first, max(completed_at) AS last
        FROM ${ce} WHERE command_id = ${id} GROUP BY status`),
    db.all<ExecutionTally["byExitCode"][number]>(sql`
      SELECT exit_code, count(*) AS n FROM ${ce}
       WHERE command_id = ${id} AND exit_code IS NOT NULL GROUP BY exit_code ORDER BY exit_code`),
  ]);
  return { byStatus, byExitCode };
}
