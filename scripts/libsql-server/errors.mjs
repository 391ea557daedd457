// Every error leaves the server as Hrana's `Error` structure
// `{ message, code }`: inside a pipeline result for a failed request, or as
// the body of a 4xx/5xx response when the whole HTTP request is refused.

/** An error scoped to one stream request; the pipeline goes on. */
export class RequestError extends Error {
  /**
   * @param {string} message
   * @param {string} code
   */
  constructor(message, code) {
    super(message);
    this.code = code;
  }

  toProto() {
    return { message: this.message, code: this.code };
  }
}

/** An error that refuses the whole HTTP request (the stream is then invalid). */
export class HttpError extends Error {
  /**
   * @param {number} status
   * @param {string} message
   * @param {string} code
   */
  constructor(status, message, code) {
    super(message);
    this.status = status;
    this.code = code;
  }

  toProto() {
    return { message: this.message, code: this.code };
  }
}

/** @param {string} message */
export const protocolError = (message) => new RequestError(message, "PROTOCOL_ERROR");

/**
 * Maps what the `libsql` engine throws to a Hrana error. The engine's
 * `SqliteError` carries the extended code name (`SQLITE_CONSTRAINT_UNIQUE`,
 * `SQLITE_BUSY_SNAPSHOT`, ...), which we pass through. sqld prefixes the
 * message with "SQLite error: "; we do the same so messages match.
 * @param {unknown} error
 * @returns {RequestError}
 */
export function fromEngineError(error) {
  if (error instanceof RequestError) return error;
  const e = /** @type {{ code?: unknown, message?: unknown }} */ (error ?? {});
  const message = typeof e.message === "string" ? e.message : String(error);
  if (typeof e.code === "string" && e.code.startsWith("SQLITE_")) {
    return new RequestError(`SQLite error: ${message}`, e.code);
  }
  return new RequestError(message, "INTERNAL_ERROR");
}

/**
 * True for a lock conflict that can succeed if tried again later. A
 * `SQLITE_BUSY_SNAPSHOT` cannot: the transaction read an older snapshot and
 * must restart.
 * @param {unknown} error
 */
export function isRetryableBusy(error) {
  const code = /** @type {{ code?: unknown } | undefined} */ (error)?.code;
  return code === "SQLITE_BUSY" || code === "SQLITE_BUSY_RECOVERY" || code === "SQLITE_BUSY_TIMEOUT";
}
