import { sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { notificationDeliveries as d } from "../db/schema";

/** Finished deliveries deleted per run at most, so a backlog drains over a few runs. */
const PRUNE_BATCH = 2000;

/**
 * Deletes notification deliveries that finished (succeeded or failed) before `before`, like the
 * webhook deliveries (`WEBHOOK_DELIVERY_RETENTION_DAYS`). Pending ones are never touched.
 */
export async function pruneNotificationDeliveries(db: Database, before: number): Promise<number> {
  const res = await db.run(sql`DELETE FROM ${d} WHERE rowid IN (
    SELECT rowid FROM ${d} WHERE status != 'pending' AND updated_at < ${before} LIMIT ${PRUNE_BATCH})`);
  return res.rowsAffected;
}
