import { sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { selfUpdateRequests as sur } from "../db/schema";
import { recordEventWhere } from "../events/outbox";

/** `summary` of a completed request: nodes targeted, sent the frame, and not reachable. */
export interface Summary {
  total: number;
  triggered: number;
  failed: number;
}

/** Payload of `edge.node.update_triggered`. */
export interface TriggeredPayload {
  node_id: string;
  cluster_name: string;
  from_version: string | null;
  to_version: string;
  request_id: string;
}

/**
 * `processing` → `completed` with its summary and events, in one batch that only
 * applies while the run still holds its claim (`updated_at = claimedAt`).
 * Returns false when the claim was lost (the cron took the request over).
 */
export async function completeSelfUpdateRequest(
  db: Database,
  id: string,
  claimedAt: number,
  summary: Summary,
  payloads: TriggeredPayload[],
  now = Date.now(),
): Promise<boolean> {
  const held = sql`EXISTS (SELECT 1 FROM ${sur} r WHERE r.id = ${id} AND r.status = 'processing' AND r.updated_at = ${claimedAt})`;
  const [, , update] = await db.batch([
    recordEventWhere(
      db,
      "edge.node.update_triggered",
      sql`json(p.value)`,
      sql`FROM json_each(${JSON.stringify(payloads)}) p WHERE ${held} ORDER BY p.key`,
      now,
    ),
    recordEventWhere(
      db,
      "edge.self_update_request.completed",
      sql`json_object('request_id', ${id}, 'summary', json(${JSON.stringify(summary)}))`,
      sql`WHERE ${held}`,
      now,
    ),
    db.run(sql`UPDATE ${sur} SET status = 'completed', summary = ${JSON.stringify(summary)}, updated_at = ${now}
               WHERE id = ${id} AND status = 'processing' AND updated_at = ${claimedAt}`),
  ]);
  return (update as { rowsAffected: number }).rowsAffected > 0;
}
