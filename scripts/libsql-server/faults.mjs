// Test-only fault injection: a test arms a rule ("fail the next N statements whose SQL contains
// X and whose arguments contain Y") over `POST /__faults`, and the server fails exactly those, the
// way a real server under load does: `busy` answers the statement with SQLITE_BUSY (nothing
// written), `unavailable` answers the whole HTTP request with 503. Only a server started with
// `faults: true` (the integration tests' global setup) has the endpoint; `npm start` never does.

import { HttpError, RequestError } from "./errors.mjs";

/** An injected 5xx, answered as plain text like a proxy in front of libSQL would (not a Hrana error). */
export class FaultResponse extends HttpError {}

/**
 * @typedef {{ sql: string, arg?: string, times: number, error: "busy" | "unavailable" }} FaultRule
 */

/** @param {unknown} body */
function parseRule(body) {
  const b = /** @type {Record<string, unknown>} */ (body ?? {});
  const error = b.error ?? "busy";
  if (typeof b.sql !== "string" || b.sql.length === 0) throw new Error("`sql` must be a non-empty string");
  if (b.arg !== undefined && typeof b.arg !== "string") throw new Error("`arg` must be a string");
  if (!Number.isInteger(b.times) || /** @type {number} */ (b.times) < 1)
    throw new Error("`times` must be ≥ 1");
  if (error !== "busy" && error !== "unavailable") throw new Error("`error` must be busy or unavailable");
  return /** @type {FaultRule} */ ({ sql: b.sql.toLowerCase(), arg: b.arg, times: b.times, error });
}

export class FaultInjector {
  /** @type {FaultRule[]} */
  #rules = [];

  /** Arms a rule from a request body; throws a readable error for a malformed one. */
  add(/** @type {unknown} */ body) {
    this.#rules.push(parseRule(body));
  }

  clear() {
    this.#rules = [];
  }

  /**
   * Takes one use of the first armed rule of `kind` matching a statement, if any.
   * @param {"busy" | "unavailable"} kind
   * @param {string} sql
   * @param {unknown} args the statement's Hrana `args` (or `named_args`)
   */
  #take(kind, sql, args) {
    const text = sql.toLowerCase();
    const index = this.#rules.findIndex(
      (r) =>
        r.error === kind &&
        text.includes(r.sql) &&
        (r.arg === undefined || JSON.stringify(args ?? []).includes(r.arg)),
    );
    if (index < 0) return false;
    const rule = this.#rules[index];
    if (--rule.times === 0) this.#rules.splice(index, 1);
    return true;
  }

  /**
   * Before a statement runs: SQLITE_BUSY if a `busy` rule matches (as the engine would after its
   * busy timeout, so nothing was written).
   * @param {string} sql
   * @param {{ args?: unknown, named_args?: unknown }} stmt
   */
  beforeStatement(sql, stmt) {
    if (this.#take("busy", sql, stmt.args ?? stmt.named_args))
      throw new RequestError("SQLite error: database is locked (injected fault)", "SQLITE_BUSY");
  }

  /**
   * Before a pipeline request runs: a 503 for the whole HTTP request if an `unavailable` rule
   * matches one of its statements (a proxy or an overloaded server in front of libSQL).
   * @param {{ sqls: Map<number, string> }} stream resolves a statement's stored `sql_id`
   * @param {{ sql?: unknown, sql_id?: unknown, args?: unknown, named_args?: unknown }[]} stmts
   */
  beforeRequest(stream, stmts) {
    for (const stmt of stmts) {
      const sql = typeof stmt?.sql === "string" ? stmt.sql : stream.sqls.get(Number(stmt?.sql_id));
      if (sql === undefined) continue;
      if (this.#take("unavailable", sql, stmt.args ?? stmt.named_args))
        throw new FaultResponse(503, "Service unavailable (injected fault)", "UNAVAILABLE");
    }
  }
}
