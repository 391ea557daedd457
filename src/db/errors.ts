import { redactedError } from "./redact";

function* causes(err: unknown): Generator<any> {
  const seen = new Set<unknown>();
  let current: any = err;
  while (current && typeof current === "object" && !seen.has(current)) {
    seen.add(current);
    yield current;
    current = current.cause;
  }
}

/**
 * An error with its causes, for logs: drizzle wraps a libSQL error as "Failed query: …", and the
 * part that says why (`SQLITE_BUSY`, a network failure) is only in the cause. A failed query shows
 * its SQL, never its parameters (`redactedError`).
 */
export function describeError(err: unknown): string {
  const parts: string[] = [];
  for (const e of causes(err)) parts.push(redactedError(e));
  return parts.length > 0 ? parts.join(" <- caused by: ") : redactedError(err);
}

/** Whether a (possibly drizzle-wrapped) libSQL error is a UNIQUE or PRIMARY KEY violation. */
export function isUniqueViolation(err: unknown): boolean {
  for (const e of causes(err)) {
    const code = String(e.code ?? "");
    const message = String(e.message ?? "");
    if (code === "SQLITE_CONSTRAINT_UNIQUE" || code === "SQLITE_CONSTRAINT_PRIMARYKEY") return true;
    if (code.startsWith("SQLITE_CONSTRAINT") && /UNIQUE|PRIMARY KEY/i.test(message)) return true;
  }
  return false;
}

/**
 * Whether a (possibly drizzle-wrapped) libSQL error says the database was locked by another
 * writer for longer than the server waits (SQLITE_BUSY): nothing was written, a retry is safe.
 */
export function isDatabaseBusy(err: unknown): boolean {
  for (const e of causes(err)) {
    if (String(e.code ?? "").startsWith("SQLITE_BUSY")) return true;
    if (/SQLITE_BUSY|database is locked/i.test(String(e.message ?? ""))) return true;
  }
  return false;
}

/** Whether a (possibly drizzle-wrapped) libSQL error is a FOREIGN KEY violation. */
export function isForeignKeyViolation(err: unknown): boolean {
  for (const e of causes(err)) {
    const code = String(e.code ?? "");
    if (code === "SQLITE_CONSTRAINT_FOREIGNKEY") return true;
    if (code.startsWith("SQLITE_CONSTRAINT") && /FOREIGN KEY/i.test(String(e.message ?? ""))) return true;
  }
  return false;
}

/** Messages of a request to libSQL that never got an answer (workerd's fetch, Node's sockets). */
const CONNECTION_LOST =
  /network connection lost|fetch failed|socket hang up|ECONNRESET|ECONNREFUSED|EPIPE|connection (?:was )?(?:closed|reset)/i;
/** `HttpServerError`'s message, which is all of it that crosses a Durable Object RPC. */
const SERVER_5XX = /HTTP status 5\d\d/;

/**
 * Whether a (possibly drizzle-wrapped) libSQL error may succeed if the same write is tried again:
 * the database was busy, the connection to libSQL was lost, or libSQL (or a proxy in front of it)
 * answered with a 5xx. Constraint violations and bad SQL are not: they fail the same way every time.
 * Only conditional, repeatable writes may be retried on it (a lost connection may hide a commit).
 */
export function isTransientDbError(err: unknown): boolean {
  if (isDatabaseBusy(err)) return true;
  for (const e of causes(err)) {
    const status = Number(e.status);
    if (e.name === "HttpServerError" && status >= 500) return true;
    const message = String(e.message ?? "");
    if (CONNECTION_LOST.test(message) || SERVER_5XX.test(message)) return true;
  }
  return false;
}

/**
 * The error to throw across a Durable Object RPC: the runtime keeps only an error's message, so
 * the causes that say why (SQLITE_BUSY, a lost connection, a 5xx) are folded into it, and the
 * caller can still tell a transient failure (`isTransientDbError`). Parameters stay redacted.
 */
export function rpcSafeError(err: unknown): Error {
  return new Error(describeError(err));
}
