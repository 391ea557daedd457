import { sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { webhookDeliveryAttempts as a, webhookDeliveries as d, events } from "../db/schema";

/** Rows of each table deleted per run at most: a backlog drains over a few runs, never in one long write. */
export const PRUNE_BATCH = 2000;

/** What one retention run deleted. */
export interface Pruned {
  attempts: number;
  deliveries: number;
  events: number;
}

/**
 * Deletes old outbox rows in one batch, children first (the foreign keys hold whether or not the
 * database enforces them): attempts of finished deliveries last changed before `deliveriesBefore`,
 * then those deliveries once they have no attempts left, then events that occurred before
 * `eventsBefore` and have no delivery left. Pending deliveries and their events are never touched.
 * Each statement deletes at most `PRUNE_BATCH` rows.
 * @example await pruneOutbox(db, { eventsBefore: Date.now() - 30 * 86_400_000, deliveriesBefore: … })
 */
export async function pruneOutbox(
  db: Database,
  cutoffs: { eventsBefore: number; deliveriesBefore: number },
): Promise<Pruned> {
  // Unqualified on purpose: only deliveries have these columns, in every statement below.
  const finished = sql`status != 'pending' AND updated_at < ${cutoffs.deliveriesBefore}`;
  const [attempts, deliveries, pruned] = await db.batch([
    db.run(sql`DELETE FROM ${a} WHERE rowid IN (
      SELECT x.rowid FROM ${a} x JOIN ${d} y ON y.id = x.delivery_id WHERE ${finished} LIMIT ${PRUNE_BATCH})`),
    db.run(sql`DELETE FROM ${d} WHERE rowid IN (
      SELECT rowid FROM ${d} y WHERE ${finished}
        AND NOT EXISTS (SELECT 1 FROM ${a} x WHERE x.delivery_id = y.id) LIMIT ${PRUNE_BATCH})`),
    db.run(sql`DELETE FROM ${events} WHERE rowid IN (
      SELECT rowid FROM ${events} e WHERE e.occurred_at < ${cutoffs.eventsBefore}
        AND NOT EXISTS (SELECT 1 FROM ${d} y WHERE y.event_id = e.id) LIMIT ${PRUNE_BATCH})`),
  ]);
  return {
    attempts: attempts.rowsAffected,
    deliveries: deliveries.rowsAffected,
    events: pruned.rowsAffected,
  };
}
