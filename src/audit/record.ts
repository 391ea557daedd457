import { sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { auditCheckpoint, auditEvents } from "../db/schema";

/** Who did it and through which request; the same for every audit event of one request. */
export interface AuditActor {
  actorType: string;
  actorId: string | null;
  actorName: string | null;
  ip: string | null;
  userAgent: string | null;
  method: string | null;
  path: string | null;
  requestId: string | null;
}

/** One audit event before it is numbered and sealed. */
export interface AuditEntry extends AuditActor {
  /** `<resource>.<verb>`, e.g. `user.created`, `auth.login_failed`. */
  event: string;
  statusCode: number | null;
  success: boolean;
  resourceType: string | null;
  resourceId: string | null;
  details?: Record<string, unknown> | null;
}

const SECRET_KEY = /pass(word)?|secret|token|api_?key|authorization|private/i;

/** A copy of `details` with every value under a secret-sounding key replaced by `"[redacted]"`. */
export function redact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redact);
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEY.test(k) ? "[redacted]" : redact(v);
  return out;
}

/**
 * The insert of one audit event, for the batch that makes the change it records: `seq` is the next
 * number after the newest row (or after the retention checkpoint), computed inside the write so
 * concurrent batches get consecutive numbers. The event is sealed (hash, signature) right after.
 * With `afterChange` the event is written only when the statement just before it in the batch
 * changed a row (`changes()`), so a conditional delete that found nothing records nothing.
 * @example await db.batch([db.update(users)…, auditStatement(db, { ...actor, event: "user.updated", … })])
 */
export function auditStatement(
  db: Pick<Database, "run">,
  entry: AuditEntry,
  occurredAt = Date.now(),
  options: { afterChange?: boolean } = {},
) {
  const details = entry.details ? JSON.stringify(redact(entry.details)) : null;
  return db.run(sql`INSERT INTO ${auditEvents} (id, seq, occurred_at, event, actor_type, actor_id, actor_name, ip,
      user_agent, method, path, request_id, status_code, success, resource_type, resource_id, details)
    SELECT ${crypto.randomUUID()},
      coalesce(max(seq), (SELECT last_seq FROM ${auditCheckpoint} WHERE id = 1), 0) + 1,
      ${occurredAt}, ${entry.event}, ${entry.actorType}, ${entry.actorId}, ${entry.actorName}, ${entry.ip},
      ${entry.userAgent}, ${entry.method}, ${entry.path}, ${entry.requestId}, ${entry.statusCode},
      ${entry.success ? 1 : 0}, ${entry.resourceType}, ${entry.resourceId}, ${details}
    FROM ${auditEvents} ${options.afterChange ? sql`HAVING changes() > 0` : sql``}`);
}
