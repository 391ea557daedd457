import { type SQL, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { events } from "../db/schema";
import type { EventType } from "./catalog";

/**
 * An insert of one event into the outbox, to run in the same batch or
 * transaction as the change it records.
 * @example await db.batch([db.update(nodes)…, recordEvent(db, "edge.node.registered", { node_id })])
 */
export function recordEvent(
  db: Pick<Database, "insert">,
  type: EventType,
  data: Record<string, unknown>,
  occurredAt = Date.now(),
) {
  return db.insert(events).values({ id: crypto.randomUUID(), type, occurredAt, data: JSON.stringify(data) });
}

/**
 * An outbox insert whose payload is computed by SQL from the rows `from` selects,
 * so the event is written only when those rows exist (e.g. only when a status really changes).
 * `dataJson` must be an SQL expression yielding a JSON object.
 */
export function recordEventWhere(
  db: Database,
  type: EventType,
  dataJson: SQL,
  from: SQL,
  occurredAt = Date.now(),
) {
  return db.run(sql`INSERT INTO ${events} (id, type, occurred_at, data)
    SELECT lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))), 2) || '-'
           || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6))),
           ${type}, ${occurredAt}, ${dataJson}
    ${from}`);
}
