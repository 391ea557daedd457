import { type SQL, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { commandExecutions as ce, commands, nodes } from "../db/schema";
import { recordEventWhere } from "../events/outbox";

// Every state change below is a conditional UPDATE (`… AND status IN (…)`) preceded, in the same
// batch, by an event insert with the same condition: races (cancel vs result, expiry vs result,
// duplicates) resolve to exactly one winner, and only the winner's event is written.

/** Largest output stored per execution; anything beyond is cut with a visible marker. */
export const MAX_STORED_OUTPUT_BYTES = 1024 * 1024;
const LIVE = sql`('pending', 'sent')`;

function eventData(extra: SQL = sql``): SQL {
  return sql`json_object('execution_id', e.id, 'command_id', e.command_id, 'node_id', e.node_id, 'cluster_name', e.cluster_name${extra})`;
}

function idList(ids: string[]): SQL {
  return sql.join(
    ids.map((id) => sql`${id}`),
    sql`, `,
  );
}

/** Caps output at `MAX_STORED_OUTPUT_BYTES` with an explicit truncation marker (never a silent cut). */
export function capOutput(output: string): string {
  const bytes = new TextEncoder().encode(output);
  if (bytes.byteLength <= MAX_STORED_OUTPUT_BYTES) return output;
  const kept = new TextDecoder().decode(bytes.slice(0, MAX_STORED_OUTPUT_BYTES)).replace(/\uFFFD$/, "");
  return `${kept}\n[output truncated by the server: ${bytes.byteLength - MAX_STORED_OUTPUT_BYTES} bytes omitted]\n`;
}

/** Marks delivered `pending` rows of a node as `sent` (with `edge.command_execution.sent`); returns how many moved. */
export async function markSent(
  db: Database,
  nodeId: string,
  ids: string[],
  now = Date.now(),
): Promise<number> {
  if (ids.length === 0) return 0;
  const where = sql`e.node_id = ${nodeId} AND e.id IN (${idList(ids)}) AND e.status = 'pending'`;
  const [, update] = await db.batch([
    recordEventWhere(db, "edge.command_execution.sent", eventData(), sql`FROM ${ce} e WHERE ${where}`, now),
    db.run(sql`UPDATE ${ce} AS e SET status = 'sent', sent_at = ${now}, updated_at = ${now} WHERE ${where}`),
  ]);
  return (update as { rowsAffected: number }).rowsAffected;
}

/** Most executions handed to one agent in one delivery round; the rest follow on the next round. */
export const DELIVERY_BATCH = 500;

/** A row handed to the agent by `claimPending`. */
export interface ClaimedExecution {
  id: string;
  command_text: string;
  timeout: number | null;
  cancel_requested_at: number | null;
  inserted_at: number;
}

/** A row claimed by `claimPendingForNodes`: a `ClaimedExecution` with its node. */
export interface ClaimedNodeExecution extends ClaimedExecution {
  node_id: string;
}

function byAge(a: ClaimedExecution, b: ClaimedExecution): number {
  return a.inserted_at - b.inserted_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** Moves the rows `where` selects (all `pending`) to `sent` with their events, returning them oldest first. */
function claimStatements(db: Database, where: SQL, now: number) {
  return [
    recordEventWhere(db, "edge.command_execution.sent", eventData(), sql`FROM ${ce} e WHERE ${where}`, now),
    db.all<ClaimedNodeExecution>(sql`UPDATE ${ce} AS e SET status = 'sent', sent_at = ${now}, updated_at = ${now}
      WHERE ${where} RETURNING id, node_id, command_text, timeout, cancel_requested_at, inserted_at`),
  ] as const;
}

/**
 * Moves a node's oldest live `pending` rows (at most `limit`) to `sent` with their events and returns
 * them, oldest first: the status check and the claim are one statement, so a row cancelled or expired
 * a moment earlier is never handed out, and a delivery costs one database round trip.
 */
export async function claimPending(
  db: Database,
  nodeId: string,
  limit: number,
  now = Date.now(),
): Promise<ClaimedExecution[]> {
  const where = sql`e.id IN (SELECT id FROM ${ce} WHERE node_id = ${nodeId} AND status = 'pending' AND held = 0
    AND (expired_at IS NULL OR expired_at > ${now}) ORDER BY inserted_at, id LIMIT ${limit})
    AND +e.status = 'pending'`;
  const [, claimed] = await db.batch(claimStatements(db, where, now));
  return (claimed as ClaimedExecution[]).sort(byAge);
}

/**
 * The statements, to run at the end of a rollout advance's batch, that claim (`sent`) what the
 * advance just released for `command` (its rows made unheld at `now`) on nodes the database believes
 * connected, for the caller to push to their sessions; the rest stay `pending` for their agents'
 * next hello. The last one returns the claimed rows.
 */
export function claimReleasedStatements(db: Database, command: SQL, now: number) {
  const where = sql`e.id IN (
      SELECT x.id FROM ${ce} x JOIN ${nodes} n ON n.id = x.node_id
       WHERE x.command_id = ${command} AND x.status = 'pending' AND x.held = 0 AND x.updated_at = ${now}
         AND (x.expired_at IS NULL OR x.expired_at > ${now}) AND n.status != 'unreachable')
    AND +e.status = 'pending'`;
  return claimStatements(db, where, now);
}

/**
 * The statements of `claimPendingForNodes`, to run alone or at the end of another batch (a command's
 * creation). The last one returns the claimed rows.
 */
export function claimPendingForNodesStatements(
  db: Database,
  nodeIds: string[],
  perNodeLimit: number,
  now = Date.now(),
) {
  // Nodes the database believes connected only: an offline node's rows stay `pending` until its agent
  // says hello. One bound JSON array, whatever the number of nodes.
  const where = sql`e.id IN (
      SELECT id FROM (
        SELECT x.id, row_number() OVER (PARTITION BY x.node_id ORDER BY x.inserted_at, x.id) AS rank
          FROM ${ce} x JOIN ${nodes} n ON n.id = x.node_id
         WHERE x.node_id IN (SELECT value FROM json_each(${JSON.stringify(nodeIds)}))
           AND x.status = 'pending' AND x.held = 0 AND (x.expired_at IS NULL OR x.expired_at > ${now})
           AND n.status != 'unreachable')
       WHERE rank <= ${perNodeLimit})
    AND +e.status = 'pending'`;
  return claimStatements(db, where, now);
}

/**
 * Claims the oldest live `pending` rows (at most `perNodeLimit` each) of many connected nodes in one
 * round trip, for a dispatcher that then hands each node's rows to its session. Returned per node,
 * oldest first.
 */
export async function claimPendingForNodes(
  db: Database,
  nodeIds: string[],
  perNodeLimit: number,
  now = Date.now(),
): Promise<Map<string, ClaimedExecution[]>> {
  if (nodeIds.length === 0) return new Map();
  const [, claimed] = await db.batch(claimPendingForNodesStatements(db, nodeIds, perNodeLimit, now));
  return groupClaimedByNode(claimed as ClaimedNodeExecution[]);
}

/** Claimed rows per node, oldest first. */
export function groupClaimedByNode(rows: ClaimedNodeExecution[]): Map<string, ClaimedExecution[]> {
  const byNode = new Map<string, ClaimedExecution[]>();
  for (const { node_id, ...row } of rows) {
    const list = byNode.get(node_id);
    if (list) list.push(row);
    else byNode.set(node_id, [row]);
  }
  for (const list of byNode.values()) list.sort(byAge);
  return byNode;
}

/** An agent's report of one execution, as a node's session received it. */
export interface ExecutionResult {
  nodeId: string;
  executionId: string;
  exitCode: number;
  output: string;
  /** The agent's clock, epoch milliseconds; absent from older agents. */
  startedAt?: number;
  finishedAt?: number;
}

/**
 * What a result did to its row: the new status with the start and duration it stored (what a
 * synchronous command's answer shows), its command and whether that command is a rollout (whose
 * window must then be advanced), or null when the row was no longer live.
 */
export type ResultOutcome = {
  status: "completed" | "cancelled";
  startedAt: number | null;
  durationMs: number | null;
  commandId: string;
  rollout: boolean;
} | null;

/** A row the result UPDATE changed, as it returns it. */
interface AppliedRow {
  id: string;
  status: "completed" | "cancelled";
  started_at: number | null;
  duration_ms: number | null;
  command_id: string;
  rollout: number;
}

/**
 * The three statements that apply a set of results with distinct execution ids: two conditional
 * event inserts and one conditional UPDATE … FROM, all joined to the results as one bound JSON array,
 * so the statement count stays three whatever the number of results. The UPDATE returns the rows it
 * changed with their new status.
 */
export function resultStatements(db: Database, results: ExecutionResult[], now = Date.now()) {
  const rows = JSON.stringify(
    results.map((r) => [
      r.executionId,
      r.nodeId,
      r.exitCode,
      capOutput(r.output),
      r.startedAt ?? null,
      r.finishedAt ?? null,
    ]),
  );
  const r = sql`(SELECT json_extract(value, '$[0]') AS id, json_extract(value, '$[1]') AS node_id,
                        json_extract(value, '$[2]') AS exit_code, json_extract(value, '$[3]') AS output,
                        json_extract(value, '$[4]') AS started_at, json_extract(value, '$[5]') AS finished_at
                   FROM json_each(${rows}))`;
  // `+` keeps the planner off the status and node indexes: the results drive the loop, each row is
  // found by its primary key (with the status index, every live row of the fleet was scanned).
  const live = sql`e.id = r.id AND +e.node_id = r.node_id AND +e.status IN ${LIVE}`;
  const cancelled = sql`(e.cancel_requested_at IS NOT NULL AND r.exit_code = 143)`;
  const data = eventData(sql`, 'exit_code', r.exit_code`);
  return [
    recordEventWhere(
      db,
      "edge.command_execution.cancelled",
      data,
      sql`FROM ${r} r JOIN ${ce} e ON ${live} WHERE ${cancelled}`,
      now,
    ),
    recordEventWhere(
      db,
      "edge.command_execution.completed",
      data,
      sql`FROM ${r} r JOIN ${ce} e ON ${live} WHERE NOT ${cancelled}`,
      now,
    ),
    db.all<AppliedRow>(sql`UPDATE ${ce} AS e SET
        status = CASE WHEN ${cancelled} THEN 'cancelled' ELSE 'completed' END,
        exit_code = r.exit_code, output = r.output,
        -- The agent's own measure when it sent one (its clock may differ from ours: the duration
        -- is what counts); else the time since the row was sent.
        started_at = coalesce(r.started_at, e.sent_at),
        duration_ms = CASE WHEN r.started_at IS NOT NULL AND r.finished_at >= r.started_at
                           THEN r.finished_at - r.started_at
                           WHEN e.sent_at IS NOT NULL THEN ${now} - e.sent_at END,
        completed_at = CASE WHEN ${cancelled} THEN NULL ELSE ${now} END,
        cancelled_at = CASE WHEN ${cancelled} THEN ${now} ELSE NULL END,
        updated_at = ${now}
      FROM ${r} AS r WHERE ${live}
      -- Whether the command is a rollout: only then does the session advance its window (an
      -- advance is a write transaction that counts the command's live rows; one per result of a
      -- plain command made a fan-out quadratic, issue 23). command_id unqualified: a subquery of
      -- RETURNING cannot name the alias e, and commands has no such column.
      RETURNING id, status, started_at, duration_ms, command_id,
        coalesce((SELECT c.rollout_status IS NOT NULL FROM ${commands} c WHERE c.id = command_id), 0) AS rollout`),
  ] as const;
}

/**
 * Applies agents' results, all in one batch (one transaction, one round trip, three statements per
 * round). Exit code 143 after a cancel request means `cancelled`; anything else `completed`. Only a
 * live row of the reporting node changes, so duplicates and late results after cancel or expiry are
 * no-ops (outcome null). Results repeating an execution id go in later rounds of the same batch, in
 * order, as if applied one after the other.
 */
export async function applyResults(
  db: Database,
  results: ExecutionResult[],
  now = Date.now(),
): Promise<ResultOutcome[]> {
  if (results.length === 0) return [];
  const rounds: { index: number; result: ExecutionResult }[][] = [];
  const seen = new Map<string, number>();
  for (const [index, result] of results.entries()) {
    const round = seen.get(result.executionId) ?? 0;
    seen.set(result.executionId, round + 1);
    if (!rounds[round]) rounds[round] = [];
    rounds[round].push({ index, result });
  }
  const statements = rounds.flatMap((round) =>
    resultStatements(
      db,
      round.map((x) => x.result),
      now,
    ),
  );
  // drizzle's batch() wants a non-empty tuple; `results` is non-empty, so `first` always exists.
  const [first, ...rest] = statements;
  if (!first) return results.map(() => null);
  const written = await db.batch([first, ...rest]);
  const outcomes: ResultOutcome[] = results.map(() => null);
  rounds.forEach((round, k) => {
    const changed = new Map(
      (written[k * 3 + 2] as AppliedRow[]).map((row) => [
        row.id,
        {
          status: row.status,
          startedAt: row.started_at,
          durationMs: row.duration_ms,
          commandId: row.command_id,
          rollout: Boolean(row.rollout),
        },
      ]),
    );
    for (const { index, result } of round) outcomes[index] = changed.get(result.executionId) ?? null;
  });
  return outcomes;
}

/** Applies one agent's result (`applyResults` with one item). */
export async function applyResult(
  db: Database,
  nodeId: string,
  result: { executionId: string; exitCode: number; output: string },
  now = Date.now(),
): Promise<ResultOutcome> {
  const [outcome] = await applyResults(db, [{ nodeId, ...result }], now);
  return outcome ?? null;
}

/** `pending` → `cancelled` at once; returns whether it happened. */
export async function cancelPending(db: Database, executionId: string, now = Date.now()): Promise<boolean> {
  const where = sql`e.id = ${executionId} AND e.status = 'pending'`;
  const [, update] = await db.batch([
    recordEventWhere(
      db,
      "edge.command_execution.cancelled",
      eventData(),
      sql`FROM ${ce} e WHERE ${where}`,
      now,
    ),
    db.run(
      sql`UPDATE ${ce} AS e SET status = 'cancelled', cancelled_at = ${now}, updated_at = ${now} WHERE ${where}`,
    ),
  ]);
  return (update as { rowsAffected: number }).rowsAffected > 0;
}

/** Records that a cancel went to the agent of a `sent` row; returns whether the row is still `sent`. */
export async function requestCancel(db: Database, executionId: string, now = Date.now()): Promise<boolean> {
  const rows = await db.all<{ id: string }>(
    sql`UPDATE ${ce} SET cancel_requested_at = coalesce(cancel_requested_at, ${now}), updated_at = ${now}
        WHERE id = ${executionId} AND status = 'sent' RETURNING id`,
  );
  return rows.length > 0;
}

/**
 * Expires live rows past their deadline (at most `limit` per call) with their events.
 * Returns the rows that had reached an agent (`sent`), whose processes should be stopped.
 */
export async function expireDue(
  db: Database,
  now = Date.now(),
  limit = 1000,
): Promise<{ expired: number; sent: { id: string; nodeId: string }[] }> {
  const due = await db.all<{ id: string; node_id: string | null; status: string }>(
    sql`SELECT id, node_id, status FROM ${ce} WHERE status IN ${LIVE} AND expired_at IS NOT NULL AND expired_at <= ${now} LIMIT ${limit}`,
  );
  if (due.length === 0) return { expired: 0, sent: [] };
  const where = sql`e.id IN (${idList(due.map((d) => d.id))}) AND e.status IN ${LIVE} AND e.expired_at <= ${now}`;
  const [, update] = await db.batch([
    recordEventWhere(
      db,
      "edge.command_execution.expired",
      eventData(),
      sql`FROM ${ce} e WHERE ${where}`,
      now,
    ),
    db.run(sql`UPDATE ${ce} AS e SET status = 'expired', updated_at = ${now} WHERE ${where}`),
  ]);
  return {
    expired: (update as { rowsAffected: number }).rowsAffected,
    sent: due.flatMap((d) => (d.status === "sent" && d.node_id ? [{ id: d.id, nodeId: d.node_id }] : [])),
  };
}

/** Statements that end every live execution of a node being deleted (to run in the delete's batch). */
export function cancelForDeletedNode(db: Database, nodeId: string, now = Date.now()) {
  const where = sql`e.node_id = ${nodeId} AND e.status IN ${LIVE}`;
  return [
    recordEventWhere(
      db,
      "edge.command_execution.cancelled",
      eventData(sql`, 'reason', 'node deleted'`),
      sql`FROM ${ce} e WHERE ${where}`,
      now,
    ),
    db.run(sql`UPDATE ${ce} AS e SET status = 'cancelled', cancelled_at = ${now}, updated_at = ${now},
               output = coalesce(output, '') || '[cancelled: the node was deleted]' WHERE ${where}`),
  ] as const;
}

/** Deletes terminal executions last updated before `cutoff` (at most `limit`), each with `edge.command_execution.pruned`. */
export async function pruneTerminal(
  db: Database,
  cutoff: number,
  limit = 1000,
  now = Date.now(),
): Promise<number> {
  const old = await db.all<{ id: string }>(
    sql`SELECT id FROM ${ce} WHERE status IN ('completed', 'cancelled', 'expired') AND updated_at < ${cutoff} LIMIT ${limit}`,
  );
  if (old.length === 0) return 0;
  const where = sql`e.id IN (${idList(old.map((o) => o.id))})`;
  const [, del] = await db.batch([
    recordEventWhere(
      db,
      "edge.command_execution.pruned",
      eventData(sql`, 'status', e.status`),
      sql`FROM ${ce} e WHERE ${where}`,
      now,
    ),
    db.run(sql`DELETE FROM ${ce} AS e WHERE ${where}`),
  ]);
  return (del as { rowsAffected: number }).rowsAffected;
}
