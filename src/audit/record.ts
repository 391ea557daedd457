import { type SQL, sql } from "drizzle-orm";
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

/** How `auditInsert` words its insert beyond the event itself. */
export interface AuditInsertOptions {
  /** The row's id (a batch that carries several guarded copies of one event gives them the same id). */
  id?: string;
  /** Write it only when the statement just before it changed a row (`changes()`). */
  afterChange?: boolean;
  /** Write it only when no row with this id exists yet: the first copy that qualifies wins. */
  once?: boolean;
  /**
   * A table the statement just before inserted into: with no `resourceId`, the event records the id
   * of that row (`last_insert_rowid()`), so a create's event names what it created.
   */
  insertedInto?: string;
}

/**
 * The SQL of one audit event's insert: `seq` is the next number after the newest row (or after the
 * retention checkpoint), computed inside the write so concurrent batches get consecutive numbers.
 * The event is sealed (hash, signature) after it commits.
 */
export function auditInsert(
  entry: AuditEntry,
  occurredAt = Date.now(),
  options: AuditInsertOptions = {},
): SQL {
  const id = options.id ?? crypto.randomUUID();
  const details = entry.details ? JSON.stringify(redact(entry.details)) : null;
  const resourceId =
    entry.resourceId === null && options.insertedInto
      ? sql`(SELECT id FROM ${sql.identifier(options.insertedInto)} WHERE rowid = last_insert_rowid())`
      : sql`${entry.resourceId}`;
  const guards = [
    ...(options.afterChange ? [sql`changes() > 0`] : []),
    ...(options.once ? [sql`NOT EXISTS (SELECT 1 FROM ${auditEvents} WHERE id = ${id})`] : []),
  ];
  return sql`INSERT INTO ${auditEvents} (id, seq, occurred_at, event, actor_type, actor_id, actor_name, ip,
      user_agent, method, path, request_id, status_code, success, resource_type, resource_id, details)
    SELECT ${id},
      coalesce(max(seq), (SELECT last_seq FROM ${auditCheckpoint} WHERE id = 1), 0) + 1,
      ${occurredAt}, ${entry.event}, ${entry.actorType}, ${entry.actorId}, ${entry.actorName}, ${entry.ip},
      ${entry.userAgent}, ${entry.method}, ${entry.path}, ${entry.requestId}, ${entry.statusCode},
      ${entry.success ? 1 : 0}, ${entry.resourceType}, ${resourceId}, ${details}
    FROM ${auditEvents} ${guards.length > 0 ? sql`HAVING ${sql.join(guards, sql` AND `)}` : sql``}`;
}

/**
 * The insert of one audit event, for the batch that makes the change it records (`auditInsert`).
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
  return db.run(auditInsert(entry, occurredAt, options));
}
