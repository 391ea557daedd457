import { sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { selfUpdateRequests as sur, selfUpdateTargets as sut } from "../db/schema";

// A self-update rollout (C11 for agent releases): a request with `max_concurrency` tells at most
// that many agents at a time to update. A node's slot is taken from the `self_update` frame until
// its agent says hello on the release's version (`updated`), or it fails (not connected when its
// turn came, or not back on the version within UPDATE_TIMEOUT_MS). Past `error_limit` failures the
// rollout stops and the waiting nodes are cancelled. As with command rollouts, each advance is one
// libSQL batch, so two advancers can't both take the last slot, and the whole state is in rows.

/** How long an agent has to come back on the release's version once told. */
export const UPDATE_TIMEOUT_MS = 10 * 60_000;

/** A rollout target as the trigger needs it. */
export interface RolloutTarget {
  node_id: string;
  from_version: string | null;
}

/** Writes a rollout's targets in order (`waiting`) and marks the request's rollout running, in one batch. */
export async function startSelfUpdateRollout(
  db: Database,
  requestId: string,
  targets: RolloutTarget[],
  limits: { concurrency: number; errors: number | null },
  now = Date.now(),
): Promise<void> {
  const rows = targets.map((t, rank) => [t.node_id, rank, t.from_version]);
  await db.batch([
    db.run(sql`INSERT OR IGNORE INTO ${sut} (request_id, node_id, rank, status, from_version)
      SELECT ${requestId}, json_extract(p.value, '$[0]'), json_extract(p.value, '$[1]'), 'waiting', json_extract(p.value, '$[2]')
        FROM json_each(${JSON.stringify(rows)}) p`),
    db.run(sql`UPDATE ${sur} SET rollout_status = 'running', concurrency_limit = ${limits.concurrency},
               error_limit = ${limits.errors}, updated_at = ${now}
               WHERE id = ${requestId} AND rollout_status IS NULL`),
  ]);
}

const FAILED = sql`x.status = 'failed'`;

/**
 * Moves a rollout on, in one batch: fails the nodes told too long ago; stops the rollout
 * (cancelling the waiting nodes) once failures pass `error_limit`; else takes as many waiting
 * nodes, in order, as there are free slots (`updating`) and returns them, to be told. Nothing for a
 * request that is no running rollout.
 */
export async function advanceSelfUpdateRollout(
  db: Database,
  requestId: string,
  now = Date.now(),
): Promise<RolloutTarget[]> {
  const timedOut = db.run(sql`UPDATE ${sut} SET status = 'failed', finished_at = ${now},
      error = 'not back on the release''s version within ' || ${UPDATE_TIMEOUT_MS / 60_000} || ' minutes'
    WHERE request_id = ${requestId} AND status = 'updating' AND triggered_at < ${now - UPDATE_TIMEOUT_MS}`);
  const failures = sql`(SELECT count(*) FROM ${sut} x WHERE x.request_id = r.id AND ${FAILED})`;
  const stop = db.run(sql`UPDATE ${sur} AS r SET rollout_status = 'stopped', updated_at = ${now},
      rollout_reason = 'rollout stopped: ' || ${failures} || ' nodes failed, more than max_errors (' || r.error_limit || ')'
    WHERE r.id = ${requestId} AND r.rollout_status = 'running' AND r.error_limit IS NOT NULL AND ${failures} > r.error_limit`);
  const cancel = db.run(sql`UPDATE ${sut} SET status = 'cancelled', finished_at = ${now},
      error = 'rollout stopped: too many nodes failed'
    WHERE request_id = ${requestId} AND status = 'waiting'
      AND EXISTS (SELECT 1 FROM ${sur} r WHERE r.id = ${requestId} AND r.rollout_status = 'stopped')`);
  const busy = sql`(SELECT count(*) FROM ${sut} x WHERE x.request_id = ${requestId} AND x.status = 'updating')`;
  const slots = sql`max(0, coalesce((SELECT r.concurrency_limit FROM ${sur} r WHERE r.id = ${requestId} AND r.rollout_status = 'running'), 0) - ${busy})`;
  const take = db.all<RolloutTarget>(sql`UPDATE ${sut} SET status = 'updating', triggered_at = ${now}
    WHERE request_id = ${requestId} AND node_id IN (
      SELECT node_id FROM ${sut} WHERE request_id = ${requestId} AND status = 'waiting' ORDER BY rank LIMIT ${slots})
    RETURNING node_id, from_version`);
  const [, , , taken] = await db.batch([timedOut, stop, cancel, take]);
  return taken as RolloutTarget[];
}

/** A node whose turn came but whose agent could not be told: failed, freeing its slot. */
export async function failTarget(
  db: Database,
  requestId: string,
  nodeId: string,
  error: string,
  now = Date.now(),
) {
  await db.run(sql`UPDATE ${sut} SET status = 'failed', finished_at = ${now}, error = ${error}
    WHERE request_id = ${requestId} AND node_id = ${nodeId} AND status = 'updating'`);
}

/**
 * The statement a hello runs: the node's `updating` targets whose release is the version the agent
 * now runs become `updated`. Returns their request ids (rollouts to move on).
 */
export function updatedOnHelloStatement(db: Database, nodeId: string, version: string, now: number) {
  return db.all<{ request_id: string }>(sql`UPDATE ${sut} SET status = 'updated', finished_at = ${now}
    WHERE node_id = ${nodeId} AND status = 'updating'
      AND request_id IN (SELECT id FROM ${sur} WHERE json_extract(release, '$.version') = ${version})
    RETURNING request_id`);
}

/** Whether nothing waits or updates any more (the rollout is over and the request can complete). */
export async function rolloutFinished(db: Database, requestId: string): Promise<boolean> {
  const [row] = await db.all<{ n: number }>(sql`SELECT count(*) AS n FROM ${sut}
    WHERE request_id = ${requestId} AND status IN ('waiting', 'updating')`);
  return (row?.n ?? 0) === 0;
}

/** The rollout's tally, by target status. */
export async function rolloutCounts(db: Database, requestId: string): Promise<Record<string, number>> {
  const rows = await db.all<{ status: string; n: number }>(
    sql`SELECT status, count(*) AS n FROM ${sut} WHERE request_id = ${requestId} GROUP BY status`,
  );
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

/** Requests whose rollout is running, oldest first (the cron's pass: time-outs and lost advances). */
export async function runningSelfUpdateRollouts(db: Database, limit: number): Promise<string[]> {
  const rows = await db.all<{ id: string }>(
    sql`SELECT id FROM ${sur} WHERE rollout_status IN ('running', 'stopped') AND status = 'processing'
        ORDER BY inserted_at LIMIT ${limit}`,
  );
  return rows.map((r) => r.id);
}
