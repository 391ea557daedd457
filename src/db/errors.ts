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
