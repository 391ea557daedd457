import { and, count, eq, gt, isNotNull, lte, or, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { enrollmentKeys } from "../db/schema";

/**
 * Unused public keys that can still enrol: what `PUBLIC_ENROLLMENT_KEY_MAX_OUTSTANDING` caps
 * (review M1), so anonymous callers cannot stock up keys to fill a cluster.
 */
export async function countOutstandingPublicKeys(db: Database, now = Date.now()): Promise<number> {
  const [row] = await db
    .select({ n: count() })
    .from(enrollmentKeys)
    .where(
      and(
        eq(enrollmentKeys.origin, "public"),
        gt(enrollmentKeys.usesRemaining, 0),
        or(sql`${enrollmentKeys.expiredAt} IS NULL`, gt(enrollmentKeys.expiredAt, now)),
      ),
    );
  return row?.n ?? 0;
}

/**
 * Deletes keys of any kind that ended (expired, or spent) at least `retentionDays` ago. A spent key
 * ended at its last use. Returns how many went.
 * @example await pruneEndedEnrollmentKeys(db, 7)
 */
export async function pruneEndedEnrollmentKeys(
  db: Database,
  retentionDays: number,
  now = Date.now(),
): Promise<number> {
  const cutoff = now - retentionDays * 86_400_000;
  const deleted = await db
    .delete(enrollmentKeys)
    .where(
      or(
        and(isNotNull(enrollmentKeys.expiredAt), lte(enrollmentKeys.expiredAt, cutoff)),
        and(eq(enrollmentKeys.usesRemaining, 0), lte(enrollmentKeys.lastUsedAt, cutoff)),
      ),
    )
    .returning({ id: enrollmentKeys.id });
  return deleted.length;
}
