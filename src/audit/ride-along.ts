import type {
  Client,
  InArgs,
  InStatement,
  ResultSet,
  Transaction,
  TransactionMode,
} from "@libsql/client/web";
import type { SQL } from "drizzle-orm";
import { drizzle } from "drizzle-orm/libsql/web";
import { getTableConfig, SQLiteAsyncDialect, SQLiteTable } from "drizzle-orm/sqlite-core";
import type { Database } from "../db/client";
import * as schema from "../db/schema";
import { type AuditEntry, type AuditInsertOptions, auditInsert } from "./record";

/** The audit event a request's first change carries, and what to do once it committed. */
export interface RideAlong {
  /** The event still to write (null once written, or when the request writes its own). */
  pending(): RidingEvent | null;
  /** The batch (or transaction) that carried the event committed with it. */
  written(): void;
}

/** One request's audit event: the same id in every batch that may carry it, so it lands once. */
export interface RidingEvent {
  id: string;
  entry: AuditEntry;
  occurredAt: number;
  /** The table a create inserts into (its path's resource, e.g. `clusters`): its new row's id is the event's resource id. */
  resourceTable?: string;
}

const dialect = new SQLiteAsyncDialect();

// Tables whose rows a create's event can name: those with an `id` column (read by rowid).
const TABLES_WITH_ID = new Set(
  (Object.values(schema) as unknown[])
    .filter((t): t is SQLiteTable => t instanceof SQLiteTable)
    .map((t) => getTableConfig(t))
    .filter((t) => t.columns.some((column) => column.name === "id"))
    .map((t) => t.name),
);
const WRITE = /^\s*(insert|update|delete|replace)\b/i;
const INSERT_INTO = /^\s*(?:insert|replace)\s+(?:or\s+\w+\s+)?into\s+"?(\w+)"?/i;
const AUDIT_TABLE = /^\s*insert\s+into\s+"?audit_events"?/i;

function sqlOf(stmt: InStatement): string {
  return typeof stmt === "string" ? stmt : stmt.sql;
}

/** Whether a statement changes rows of anything but the audit log itself (a handler's own event). */
function isChange(stmt: InStatement): boolean {
  const text = sqlOf(stmt);
  return WRITE.test(text) && !AUDIT_TABLE.test(text);
}

function insertedTable(stmt: InStatement): string | undefined {
  return INSERT_INTO.exec(sqlOf(stmt))?.[1];
}

function toStatement(query: SQL): InStatement {
  const built = dialect.sqlToQuery(query);
  return { sql: built.sql, args: built.params as InArgs };
}

// The event's insert after `change`, guarded so it lands only when that change changed a row and no
// copy of it landed before; a create's resource id is the row the change inserted.
function copyAfter(event: RidingEvent, change: InStatement, extra: AuditInsertOptions = {}): InStatement {
  const table = insertedTable(change);
  const insertedInto =
    table && table === event.resourceTable && TABLES_WITH_ID.has(table) ? table : undefined;
  return toStatement(
    auditInsert(event.entry, event.occurredAt, {
      id: event.id,
      afterChange: true,
      once: true,
      insertedInto,
      ...extra,
    }),
  );
}

function landed(result: ResultSet | undefined): boolean {
  return (result?.rowsAffected ?? 0) > 0;
}

// A transaction keeps the event for its commit: the change's own row count says whether to write it.
function ridingTransaction(tx: Transaction, ride: RideAlong): Transaction {
  let changed: InStatement | null = null;
  return new Proxy(tx, {
    get(target, prop, receiver) {
      if (prop === "execute") {
        return async (stmt: InStatement) => {
          const result = await target.execute(stmt);
          if (!changed && isChange(stmt) && result.rowsAffected > 0) {
            changed = stmt;
            const table = insertedTable(stmt);
            const event = ride.pending();
            // The created row is named now: later inserts in the transaction move last_insert_rowid().
            const named = table && table === event?.resourceTable && TABLES_WITH_ID.has(table);
            if (event && named && event.entry.resourceId === null) {
              const [row] = (
                await target.execute({
                  sql: `SELECT id FROM "${table}" WHERE rowid = ?`,
                  args: [result.lastInsertRowid ?? null],
                })
              ).rows;
              if (row && typeof row.id === "string") event.entry.resourceId = row.id;
            }
          }
          return result;
        };
      }
      if (prop === "commit") {
        return async () => {
          const event = changed ? ride.pending() : null;
          if (event) {
            const insert = auditInsert(event.entry, event.occurredAt, { id: event.id, once: true });
            const wrote = landed(await target.execute(toStatement(insert)));
            await target.commit();
            if (wrote) ride.written();
            return;
          }
          return target.commit();
        };
      }
      const value = Reflect.get(target, prop, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/**
 * A libSQL client whose writes carry the request's audit event: a lone write becomes a batch of the
 * write and the event, a batch gets a guarded copy of the event after each of its writes, a
 * transaction writes it before committing. The event commits with the first write that changed a
 * row, and only then: a change never lands without its event, nor an event without its change.
 */
function ridingClient(client: Client, ride: RideAlong): Client {
  return new Proxy(client, {
    get(target, prop, receiver) {
      if (prop === "execute") {
        return async (stmt: InStatement, args?: InArgs) => {
          if (args !== undefined) return target.execute(stmt as string, args);
          const event = ride.pending();
          if (!event || !isChange(stmt)) return target.execute(stmt);
          const [result, audit] = await target.batch([stmt, copyAfter(event, stmt)], "write");
          if (landed(audit)) ride.written();
          return result;
        };
      }
      if (prop === "batch") {
        return async (stmts: InStatement[], mode?: TransactionMode) => {
          const event = ride.pending();
          if (!event || !stmts.some(isChange)) return target.batch(stmts, mode);
          const sent: InStatement[] = [];
          const copies: number[] = [];
          for (const stmt of stmts) {
            sent.push(stmt);
            if (!isChange(stmt)) continue;
            copies.push(sent.length);
            sent.push(copyAfter(event, stmt));
          }
          const results = await target.batch(sent, mode);
          if (copies.some((i) => landed(results[i]))) ride.written();
          return results.filter((_, i) => !copies.includes(i));
        };
      }
      if (prop === "transaction") {
        return async (mode?: TransactionMode) => ridingTransaction(await target.transaction(mode), ride);
      }
      const value = Reflect.get(target, prop, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/**
 * `db` over the same connection, with every write carrying `ride`'s audit event until it is written
 * (see `ridingClient`). Reads pass through unchanged.
 * @example const audited = withRideAlong(db, { pending: () => event, written: () => { event = null } })
 */
export function withRideAlong(db: Database, ride: RideAlong): Database {
  return drizzle(ridingClient(db.$client, ride));
}
