import { eq } from "drizzle-orm";
import type { Database } from "../db/client";
import { auditEvents } from "../db/schema";
import { type AuditRow, sealProblem } from "./chain";
import { auditEventsBetween, getCheckpoint } from "./store";

/** The answer of a single event's check. */
export interface EventVerification {
  available: boolean;
  verified: boolean;
  message: string;
}

/**
 * Checks one event's hash and signature against its content. `available` is false without
 * AUDIT_SIGNING_KEY (the hash is still checked, but anyone could recompute it).
 */
export async function verifyAuditEvent(
  row: AuditRow,
  signingKey: string | undefined,
): Promise<EventVerification> {
  const problem = await sealProblem(row, signingKey);
  if (problem)
    return { available: Boolean(signingKey), verified: false, message: `Event ${row.seq}: ${problem}` };
  return {
    available: Boolean(signingKey),
    verified: true,
    message: signingKey
      ? "Event signature verified"
      : "Event hash verified; no AUDIT_SIGNING_KEY to check a signature",
  };
}

/** The answer of a chain check over a range of `seq`. */
export interface ChainVerification extends EventVerification {
  from_seq: number;
  to_seq: number;
  checked: number;
  first_failure: { seq: number; reason: string } | null;
}

// The hash the event `seq` must name as `prev_hash`: its predecessor's, or the checkpoint's when the
// predecessor was pruned; null before the very first event.
async function expectedPrevHash(db: Database, seq: number): Promise<string | null | undefined> {
  if (seq <= 1) return null;
  const [prev] = await db
    .select({ hash: auditEvents.hash })
    .from(auditEvents)
    .where(eq(auditEvents.seq, seq - 1));
  if (prev) return prev.hash;
  const checkpoint = await getCheckpoint(db);
  return checkpoint && checkpoint.lastSeq === seq - 1 ? checkpoint.lastHash : undefined;
}

/**
 * Checks `from..to`: no `seq` missing, each `prev_hash` equal to the previous event's hash (so a
 * deleted or reordered row breaks the chain), and each event's own hash and signature. Stops at the
 * first failure. Events past the newest one are not counted as missing.
 */
export async function verifyAuditChain(
  db: Database,
  range: { from: number; to: number },
  signingKey: string | undefined,
): Promise<ChainVerification> {
  const rows = await auditEventsBetween(db, range.from, range.to);
  const base = { available: Boolean(signingKey), from_seq: range.from, to_seq: range.to };
  const fail = (seq: number, reason: string, checked: number): ChainVerification => ({
    ...base,
    verified: false,
    checked,
    first_failure: { seq, reason },
    message: `Chain broken at event ${seq}: ${reason}`,
  });
  let prev = await expectedPrevHash(db, range.from);
  let expected = range.from;
  for (const [i, row] of rows.entries()) {
    if (row.seq !== expected) return fail(expected, "missing (deleted)", i);
    if (prev === undefined) return fail(row.seq, "its predecessor is missing and no checkpoint covers it", i);
    if (row.hash && row.prevHash !== prev)
      return fail(row.seq, "prev_hash does not match the previous event's hash", i);
    const problem = await sealProblem(row, signingKey);
    if (problem) return fail(row.seq, problem, i);
    prev = row.hash;
    expected = row.seq + 1;
  }
  return {
    ...base,
    verified: true,
    checked: rows.length,
    first_failure: null,
    message: rows.length === 0 ? "No events in this range" : `${rows.length} events verified`,
  };
}
