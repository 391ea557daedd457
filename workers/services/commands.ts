import { eq, sql } from "drizzle-orm";
import type { Database } from "../../src/db/client";
import { commandExecutions as ce, commands, EXECUTION_STATUSES, nodes } from "../../src/db/schema";
import { recordEventWhere } from "../../src/events/outbox";
import {
  type ClaimedExecution,
  type ClaimedNodeExecution,
  claimPendingForNodesStatements,
  DELIVERY_BATCH,
  groupClaimedByNode,
} from "../../src/executions/lifecycle";
import { isoOrNull, isoSeconds } from "../../src/time";
import { ApiError } from "../errors";
import { resolveTargeting, type Targeting } from "./targeting";

export type CommandRow = typeof commands.$inferSelect;

/** Execution rows per insert statement: keeps each statement small whatever the fleet size. */
export const EXECUTIONS_PER_STATEMENT = 500;

export interface CommandInput {
  command_text: string;
  targeting: Targeting;
  timeout?: number | null;
  expired_at?: number | null;
}

/** The seed's `CommandResponse`; `targeting` as stored (deduplicated). */
export function presentCommand(row: CommandRow) {
  return {
    command_text: row.commandText,
    expired_at: isoOrNull(row.expiredAt),
    id: row.id,
    inserted_at: isoSeconds(row.insertedAt),
    targeting: JSON.parse(row.targeting) as Targeting,
    timeout: row.timeout,
    updated_at: isoSeconds(row.updatedAt),
  };
}

/** Loads a command or throws 404. */
export async function getCommand(db: Database, id: string): Promise<CommandRow> {
  const [row] = await db.select().from(commands).where(eq(commands.id, id)).limit(1);
  if (!row) throw new ApiError("not_found", "Command not found");
  return row;
}

/**
 * Resolves the targeting, then writes the command, one `pending` execution per
 * node and one `edge.command_execution.created` event per execution in one
 * batch. Returns the command and the node ids to dispatch to.
 *
 * `claimUpTo`: when the target set has at most this many nodes, the same batch also claims the
 * `pending` rows of those that are connected (`sent`, as a delivery would) and returns them in
 * `claimed`, ready to push to the sessions: a small command reaches its agents without another
 * database round trip.
 */
export async function createCommand(
  db: Database,
  input: CommandInput,
  options: { claimUpTo?: (nodeCount: number) => boolean; now?: number } = {},
): Promise<{ command: CommandRow; nodeIds: string[]; claimed?: Map<string, ClaimedExecution[]> }> {
  const now = options.now ?? Date.now();
  const { targeting } = input;
  const nodeIds = await resolveTargeting(db, targeting);
  const command: CommandRow = {
    id: crypto.randomUUID(),
    commandText: input.command_text,
    targeting: JSON.stringify(targeting),
    timeout: input.timeout ?? null,
    expiredAt: input.expired_at ?? null,
    insertedAt: now,
    updatedAt: now,
  };
  const clusterName =
    targeting.type === "clusters" && targeting.cluster_names!.length === 1
      ? targeting.cluster_names![0]
      : null;
  const targetAll = targeting.type === "all" ? 1 : 0;

  const statements: any[] = [db.insert(commands).values(command)];
  for (let i = 0; i < nodeIds.length; i += EXECUTIONS_PER_STATEMENT) {
    const pairs = nodeIds.slice(i, i + EXECUTIONS_PER_STATEMENT).map((id) => [crypto.randomUUID(), id]);
    // One bound JSON array per statement (no per-row variables); the denormalised text comes from
    // the command row, not from repeated parameters; joining `nodes` skips a node deleted meanwhile.
    statements.push(
      db.run(sql`INSERT INTO ${ce} (id, command_id, node_id, cluster_name, target_all, command_text, timeout,
                                    expired_at, status, inserted_at, updated_at)
        SELECT json_extract(p.value, '$[0]'), c.id, n.id, ${clusterName}, ${targetAll}, c.command_text, c.timeout,
               c.expired_at, 'pending', ${now}, ${now}
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
  const results = await db.batch(statements as [any, ...any[]]);
  if (!claim) return { command, nodeIds };
  return { command, nodeIds, claimed: groupClaimedByNode(results.at(-1) as ClaimedNodeExecution[]) };
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

/** Status counts, exit-code histogram and completion times of one command's executions (two aggregate queries). */
export async function summarizeCommand(db: Database, id: string) {
  const [byStatus, byExitCode] = await Promise.all([
    db.all<{ status: string; n: number; first: number | null; last: number | null }>(sql`
      SELECT status, count(*) AS n, min(completed_at) AS first, max(completed_at) AS last
        FROM ${ce} WHERE command_id = ${id} GROUP BY status`),
    db.all<{ exit_code: number; n: number }>(sql`
      SELECT exit_code, count(*) AS n FROM ${ce}
       WHERE command_id = ${id} AND exit_code IS NOT NULL GROUP BY exit_code ORDER BY exit_code`),
  ]);
  const counts = Object.fromEntries(EXECUTION_STATUSES.map((s) => [s, 0])) as Record<
    (typeof EXECUTION_STATUSES)[number],
    number
  >;
  let first: number | null = null;
  let last: number | null = null;
  for (const row of byStatus) {
    counts[row.status as keyof typeof counts] = row.n;
    if (row.first !== null && (first === null || row.first < first)) first = row.first;
    if (row.last !== null && (last === null || row.last > last)) last = row.last;
  }
  return {
    command_id: id,
    total: byStatus.reduce((sum, r) => sum + r.n, 0),
    counts,
    exit_codes: Object.fromEntries(byExitCode.map((r) => [String(r.exit_code), r.n])),
    first_completed_at: isoOrNull(first),
    last_completed_at: isoOrNull(last),
  };
}
