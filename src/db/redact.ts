/**
 * Database errors as logs may show them. drizzle wraps a failed statement as
 * "Failed query: <sql>\nparams: <values>", and the values are whatever the statement bound: command
 * texts, token hashes, ciphertexts. A log keeps the statement's shape (its SQL with placeholders)
 * and the driver's code from the cause, never the values.
 */

/** Everything from drizzle's `params:` line on; the values may span lines (a command text can). */
const PARAMS_TAIL = /\n\s*params:[\s\S]*$/;
/** Longest SQL kept: enough to recognise the statement, bounded for a log line. */
const MAX_SQL = 1000;

interface QueryErrorLike {
  name?: unknown;
  query?: unknown;
  params?: unknown;
}

function isQueryError(e: unknown): e is QueryErrorLike & { query: string } {
  return (
    typeof e === "object" && e !== null && typeof (e as QueryErrorLike).query === "string" && "params" in e
  );
}

function clip(sql: string): string {
  return sql.length > MAX_SQL ? `${sql.slice(0, MAX_SQL)}…` : sql;
}

/**
 * One error (not its causes) as `Name: message`, a failed query reduced to its SQL. Any message
 * that embeds drizzle's `params:` line (a wrapper that copied it) is cut there.
 * @example redactedError(new DrizzleQueryError("select ?", ["secret"])) // "Error: Failed query: select ?"
 */
export function redactedError(e: unknown): string {
  if (isQueryError(e)) return `${String(e.name ?? "Error")}: Failed query: ${clip(e.query)}`;
  return String(e).replace(PARAMS_TAIL, "");
}

/**
 * The error's stack with its first line redacted like `redactedError`. A stack whose first line is
 * not the error's own text (the message changed after it was thrown) is dropped when the message
 * carries parameters, rather than guessed at.
 */
export function redactedStack(err: unknown): string | undefined {
  if (!(err instanceof Error) || !err.stack) return undefined;
  const header = String(err);
  const clean = redactedError(err);
  if (err.stack.startsWith(header)) return clean + err.stack.slice(header.length);
  return clean === header ? err.stack : undefined;
}
