import { redactedError } from "./redact";

/** The fields of an error (or its cause) that classification reads; any of them may be missing. */
interface ErrorLike {
  code?: unknown;
  name?: unknown;
  status?: unknown;
  message?: unknown;
  cause?: unknown;
}

/** An error and its chain of causes, each once (a cyclic chain stops). */
function* causes(err: unknown): Generator<ErrorLike> {
  const seen = new Set<unknown>();
  let current: unknown = err;
  while (current && typeof current === "object" && !seen.has(current)) {
    seen.add(current);
    const e = current as ErrorLike;
    yield e;
    current = e.cause;
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

/** Network-level failures of the libSQL client (as opposed to SQL errors, which carry a SQLite code). */
export function isDatabaseUnavailable(err: unknown): boolean {
  for (const e of causes(err)) {
    const code = String(e.code ?? "");
    const text = `${String(e.name ?? "")} ${String(e.message ?? "")}`;
    if (code === "SERVER_ERROR" || code === "HRANA_WEBSOCKET_ERROR" || code === "DATABASE_UNAVAILABLE")
      return true;
    if (
      /fetch failed|network connection lost|ECONNREFUSED|connect|Server returned HTTP status 5\d\d/i.test(
        text,
      ) &&
      !code.startsWith("SQLITE")
    ) {
      return true;
    }
  }
  return false;
}

/** Lost connections `isDatabaseUnavailable` does not name (Node's sockets, a proxy dropping the stream). */
const CONNECTION_DROPPED = /socket hang up|ECONNRESET|EPIPE|connection (?:was )?(?:closed|reset)/i;

/**
 * Whether a (possibly drizzle-wrapped) libSQL error may succeed if the same write is tried again:
 * the database was busy, the connection to libSQL was lost, or libSQL (or a proxy in front of it)
 * answered with a 5xx. Constraint violations and bad SQL are not: they fail the same way every time.
 * Only conditional, repeatable writes may be retried on it (a lost connection may hide a commit).
 */
export function isTransientDbError(err: unknown): boolean {
  if (isDatabaseBusy(err) || isDatabaseUnavailable(err)) return true;
  for (const e of causes(err)) {
    if (e.name === "HttpServerError" && Number(e.status) >= 500) return true;
    if (CONNECTION_DROPPED.test(String(e.message ?? ""))) return true;
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
