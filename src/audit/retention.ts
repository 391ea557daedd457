import { and, desc, isNotNull, lt, lte, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { auditCheckpoint, auditEvents } from "../db/schema";

/** Most events one retention run deletes (the cron comes back every minute). */
const PRUNE_BATCH = 5_000;

/**
 * Deletes sealed audit events older than `retentionDays`, oldest first, and in the same batch keeps
 * the last deleted event's `seq` and hash as the checkpoint, so the oldest kept event still proves
 * its link (`prev_hash`) and numbering. Unsealed events are never pruned. Returns how many it deleted.
 */
export async function pruneAuditEvents(db: Database, retentionDays: number, now: number): Promise<number> {
  const cutoff = now - retentionDays * 86_400_000;
  const [oldest] = await db
    .select({ seq: auditEvents.seq })
    .from(auditEvents)
    .orderBy(auditEvents.seq)
    .limit(1);
  if (!oldest) return 0;
  const [last] = await db
    .select({ seq: auditEvents.seq, hash: auditEvents.hash })
    .from(auditEvents)
    .where(
      and(
        lt(auditEvents.occurredAt, cutoff),
        isNotNull(auditEvents.hash),
        lte(auditEvents.seq, oldest.seq + PRUNE_BATCH - 1),
      ),
    )
    .orderBy(desc(auditEvents.seq))
    .limit(1);
  if (!last?.hash) return 0;
  const [, deleted] = await db.batch([
    db
      .insert(auditCheckpoint)
      .values({ id: 1, lastSeq: last.seq, lastHash: last.hash, prunedAt: now })
      .onConflictDoUpdate({
        target: auditCheckpoint.id,
        set: { lastSeq: last.seq, lastHash: last.hash, prunedAt: now },
      }),
    db.delete(auditEvents).where(sql`${auditEvents.seq} <= ${last.seq}`),
  ]);
  return deleted.rowsAffected;
}
