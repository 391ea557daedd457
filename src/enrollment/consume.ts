import { sql } from "drizzle-orm";
import { sha256Hex } from "../crypto/secrets";
import type { Database } from "../db/client";
import { enrollmentKeys } from "../db/schema";

export type ConsumeResult =
  | { ok: true; keyId: string; clusterId: string; usesRemaining: number | null }
  | { ok: false; reason: "unknown" | "expired" | "spent" };

/**
 * Spends one use of an enrollment key, atomically: a single conditional
 * UPDATE decrements `uses_remaining` only while it is above zero (or unlimited)
 * and the key is unexpired, so N concurrent uses of a one-use key succeed once.
 * @example const r = await consumeEnrollmentKey(db, secret); if (!r.ok) reject(r.reason)
 */
export async function consumeEnrollmentKey(
  db: Database,
  secret: string,
  now = Date.now(),
): Promise<ConsumeResult> {
  const keyHash = await sha256Hex(secret);
  const rows = await db.all<{ id: string; cluster_id: string; uses_remaining: number | null }>(sql`
    UPDATE ${enrollmentKeys}
       SET uses_remaining = CASE WHEN uses_remaining IS NULL THEN NULL ELSE uses_remaining - 1 END,
           last_used_at = ${now}, updated_at = ${now}
     WHERE key_hash = ${keyHash}
       AND (uses_remaining IS NULL OR uses_remaining > 0)
       AND (expired_at IS NULL OR expired_at > ${now})
    RETURNING id, cluster_id, uses_remaining`);
  if (rows.length === 1) {
    return {
      ok: true,
      keyId: rows[0].id,
      clusterId: rows[0].cluster_id,
      usesRemaining: rows[0].uses_remaining,
    };
  }
  const [key] = await db.all<{ uses_remaining: number | null; expired_at: number | null }>(
    sql`SELECT uses_remaining, expired_at FROM ${enrollmentKeys} WHERE key_hash = ${keyHash}`,
  );
  if (!key) return { ok: false, reason: "unknown" };
  if (key.expired_at !== null && key.expired_at <= now) return { ok: false, reason: "expired" };
  return { ok: false, reason: "spent" };
}
