import { and, asc, count, eq, gte, lte } from "drizzle-orm";
import type { Database } from "../db/client";
import { auditCheckpoint, auditEvents } from "../db/schema";
import { ApiError } from "../errors";
import type { ListQuery } from "../list-query/engine";
import { listPage, type Page } from "../list-query/page";
import type { AuditRow } from "./chain";

/** Most events one chain check or one export reads. */
export const MAX_AUDIT_RANGE = 10_000;

/** One page of audit events. */
export function listAuditEvents(db: Database, q: ListQuery): Promise<Page<AuditRow>> {
  return listPage(db, q, db.select().from(auditEvents), db.select({ total: count() }).from(auditEvents));
}

/** An audit event by id, or 404. */
export async function getAuditEvent(db: Database, id: string): Promise<AuditRow> {
  const [row] = await db.select().from(auditEvents).where(eq(auditEvents.id, id)).limit(1);
  if (!row) throw new ApiError("not_found", "Audit event not found");
  return row;
}

/** The retention checkpoint (the last pruned event), if anything was pruned. */
export async function getCheckpoint(db: Database) {
  const [row] = await db.select().from(auditCheckpoint).where(eq(auditCheckpoint.id, 1));
  return row ?? null;
}

/**
 * `from..to` as asked, defaulted to the oldest kept event and MAX_AUDIT_RANGE events on; a wider
 * range is 400 (clients page with `from_seq`).
 */
export async function auditRange(
  db: Database,
  from: number | undefined,
  to: number | undefined,
): Promise<{ from: number; to: number }> {
  let start = from;
  if (start === undefined) {
    const [oldest] = await db
      .select({ seq: auditEvents.seq })
      .from(auditEvents)
      .orderBy(asc(auditEvents.seq))
      .limit(1);
    start = oldest?.seq ?? 1;
  }
  const end = to ?? start + MAX_AUDIT_RANGE - 1;
  if (end < start)
    throw new ApiError("bad_request", "Invalid request parameters", { to_seq: ["must be ≥ from_seq"] });
  if (end - start + 1 > MAX_AUDIT_RANGE)
    throw new ApiError("bad_request", "Invalid request parameters", {
      to_seq: [`at most ${MAX_AUDIT_RANGE} events a call; page with from_seq`],
    });
  return { from: start, to: end };
}

/** The events with `from ≤ seq ≤ to`, in order. */
export function auditEventsBetween(db: Database, from: number, to: number): Promise<AuditRow[]> {
  return db
    .select()
    .from(auditEvents)
    .where(and(gte(auditEvents.seq, from), lte(auditEvents.seq, to)))
    .orderBy(asc(auditEvents.seq));
}
