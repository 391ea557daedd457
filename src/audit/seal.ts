import { and, asc, desc, eq, gt, isNotNull, isNull } from "drizzle-orm";
import type { Database } from "../db/client";
import { auditCheckpoint, auditEvents } from "../db/schema";
import { sealOf } from "./chain";

const BATCH = 200;

// The hash of the newest sealed event, or the retention checkpoint's when everything sealed was pruned.
async function chainHead(db: Database): Promise<{ seq: number; hash: string | null }> {
  const [last] = await db
    .select({ seq: auditEvents.seq, hash: auditEvents.hash })
    .from(auditEvents)
    .where(isNotNull(auditEvents.hash))
    .orderBy(desc(auditEvents.seq))
    .limit(1);
  if (last) return last;
  const [checkpoint] = await db.select().from(auditCheckpoint).where(eq(auditCheckpoint.id, 1));
  return checkpoint ? { seq: checkpoint.lastSeq, hash: checkpoint.lastHash } : { seq: 0, hash: null };
}

/**
 * Seals unsealed audit events in `seq` order: each gets `prev_hash` (the previous event's hash), its
 * own hash and its signature. The seal of an event depends only on its content and its predecessor,
 * so concurrent sealers compute the same values, and each update is conditional on the row being
 * still unsealed: running this twice at once is harmless. Returns how many rows it sealed.
 */
export async function sealAuditEvents(db: Database, signingKey: string | undefined): Promise<number> {
  let sealed = 0;
  for (;;) {
    const head = await chainHead(db);
    const pending = await db
      .select()
      .from(auditEvents)
      .where(and(isNull(auditEvents.hash), gt(auditEvents.seq, head.seq)))
      .orderBy(asc(auditEvents.seq))
      .limit(BATCH);
    if (pending.length === 0) return sealed;
    let prev = head.hash;
    const updates = [];
    for (const row of pending) {
      const seal = await sealOf(row, prev, signingKey);
      updates.push(
        db
          .update(auditEvents)
          .set({ prevHash: prev, hash: seal.hash, signature: seal.signature })
          .where(and(eq(auditEvents.id, row.id), isNull(auditEvents.hash))),
      );
      prev = seal.hash;
    }
    await db.batch(updates as [(typeof updates)[number], ...typeof updates]);
    sealed += pending.length;
    if (pending.length < BATCH) return sealed;
  }
}
