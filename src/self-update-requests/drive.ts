import { sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { clusters, nodes, selfUpdateRequests as sur, selfUpdateTargets as sut } from "../db/schema";
import { completeSelfUpdateRequest, type Summary, type TriggeredPayload } from "./complete";
import { advanceSelfUpdateRollout, failTarget, rolloutFinished } from "./rollout";
import { getSelfUpdateRequest } from "./store";

/** Tells one node's agent to update; false when it is not connected. */
export type SendUpdate = (nodeId: string) => Promise<boolean>;

/**
 * Drives a self-update rollout as far as it can go now: takes the free slots, tells those agents
 * (one not connected fails at once and frees its slot, so the loop goes on), and completes the
 * request with its summary and events once no node waits or updates. Called after the rollout
 * starts, after a hello that finished a node, and by the cron (time-outs).
 */
export async function driveSelfUpdateRollout(
  db: Database,
  requestId: string,
  send: SendUpdate,
  now = Date.now(),
) {
  for (let round = 0; round < 1000; round++) {
    const taken = await advanceSelfUpdateRollout(db, requestId, now);
    if (taken.length === 0) break;
    const told = await Promise.all(taken.map((t) => send(t.node_id).catch(() => false)));
    const missed = taken.filter((_, i) => !told[i]);
    for (const t of missed)
      await failTarget(db, requestId, t.node_id, "the agent was not connected when its turn came", now);
    if (missed.length === 0) break;
  }
  if (await rolloutFinished(db, requestId)) await completeRollout(db, requestId);
}

async function completeRollout(db: Database, requestId: string): Promise<void> {
  const row = await getSelfUpdateRequest(db, requestId);
  if (row.status !== "processing") return;
  const release = JSON.parse(row.release ?? "null") as { version: string } | null;
  // Told = given the frame (updated, or failed after being told); the rest could not be told.
  const told = await db.all<{
    node_id: string;
    cluster_name: string | null;
    from_version: string | null;
  }>(sql`
    SELECT t.node_id, c.name AS cluster_name, t.from_version FROM ${sut} t
      LEFT JOIN ${nodes} n ON n.id = t.node_id LEFT JOIN ${clusters} c ON c.id = n.cluster_id
     WHERE t.request_id = ${requestId} AND t.triggered_at IS NOT NULL
       AND NOT (t.status = 'failed' AND t.error LIKE 'the agent was not connected%')
     ORDER BY t.rank`);
  const [total] = await db.all<{ n: number }>(
    sql`SELECT count(*) AS n FROM ${sut} WHERE request_id = ${requestId}`,
  );
  const summary: Summary = {
    total: total?.n ?? 0,
    triggered: told.length,
    failed: (total?.n ?? 0) - told.length,
  };
  const payloads: TriggeredPayload[] = told.map((t) => ({
    node_id: t.node_id,
    cluster_name: t.cluster_name ?? "",
    from_version: t.from_version,
    to_version: release?.version ?? "",
    request_id: requestId,
  }));
  if (await completeSelfUpdateRequest(db, requestId, row.updatedAt, summary, payloads))
    await db.run(
      sql`UPDATE ${sur} SET rollout_status = 'completed' WHERE id = ${requestId} AND rollout_status = 'running'`,
    );
}
