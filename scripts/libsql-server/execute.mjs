// Runs Hrana statements, batches and sequences on one connection.
// The engine is synchronous; the only awaits are the pauses between retries
// of a statement that hit SQLITE_BUSY, so other streams (including the one
// holding the lock) keep being served meanwhile. Those pauses wait in the
// namespace's line of writers (write-queue.mjs), woken when a transaction ends.

import { fromEngineError, isRetryableBusy, protocolError, RequestError } from "./errors.mjs";
import { splitStatements } from "./sql.mjs";
import { decodeValue, encodeValue } from "./values.mjs";

/**
 * @typedef {import("./databases.mjs").Connection} Connection
 * @typedef {{ conn: Connection, sqls: Map<number, string>, busyTimeoutMs: number, isClosed: () => boolean,
 *   faults?: import("./faults.mjs").FaultInjector }} ExecContext
 */

/**
 * Calls `fn` until it does not fail with a retryable SQLITE_BUSY, for at most
 * `ctx.busyTimeoutMs`. A busy statement has had no effect, so retrying is safe.
 * @template T
 * @param {ExecContext} ctx
 * @param {() => T} fn
 * @returns {Promise<T>}
 */
async function withBusyRetry(ctx, fn) {
  const deadline = Date.now() + ctx.busyTimeoutMs;
  let again = false;
  for (;;) {
    const wasInTransaction = ctx.conn.inTransaction;
    try {
      return fn();
    } catch (error) {
      ctx.conn.noteFailure();
      if (!isRetryableBusy(error) || Date.now() >= deadline || ctx.isClosed()) throw fromEngineError(error);
    } finally {
      // A statement that ended a transaction (COMMIT, or a failure that rolled it back) hands the lock on.
      ctx.conn.settled(wasInTransaction, false);
    }
    // In line for the lock, woken when a transaction ends.
    await ctx.conn.writers.wait(deadline, again);
    again = true;
    // A stream closed meanwhile has handed its connection back (or to another stream): never retry on it.
    if (ctx.isClosed())
      throw new RequestError("The stream was closed while waiting for a lock", "STREAM_CLOSED");
  }
}

/**
 * Resolves the SQL text of a request from `sql` or a stored `sql_id`.
 * @param {ExecContext} ctx
 * @param {{ sql?: unknown, sql_id?: unknown }} req
 */
export function resolveSql(ctx, req) {
  const hasSql = req.sql !== undefined && req.sql !== null;
  const hasId = req.sql_id !== undefined && req.sql_id !== null;
  if (hasSql && hasId) throw protocolError("Both `sql` and `sql_id` were given");
  if (hasSql) {
    if (typeof req.sql !== "string") throw protocolError("`sql` must be a string");
    return req.sql;
  }
  if (!hasId) throw protocolError("Neither `sql` nor `sql_id` was given");
  const sql = ctx.sqls.get(/** @type {number} */ (req.sql_id));
  if (sql === undefined) throw protocolError(`SQL text with id ${req.sql_id} was not found`);
  return sql;
}

/**
 * Orders the arguments by parameter index, with sqld's rules: `?NNN` takes
 * positional argument NNN, `:name` takes named argument `:name` or `name`,
 * every parameter needs a value, extra arguments are an error.
 * @param {(string | null)[]} params
 * @param {unknown} args
 * @param {unknown} namedArgs
 */
function bindValues(params, args, namedArgs) {
  const positional = Array.isArray(args) ? args.map(decodeValue) : [];
  const named = new Map();
  if (Array.isArray(namedArgs)) {
    for (const arg of namedArgs) {
      if (typeof arg?.name !== "string") throw protocolError("A named argument needs a string `name`");
      named.set(arg.name, decodeValue(arg.value));
    }
  }
  if (positional.length > 0 && named.size > 0) {
    throw new RequestError(
      "Specifying both positional and named arguments is not supported",
      "ARGS_BOTH_POSITIONAL_AND_NAMED",
    );
  }
  const given = positional.length + named.size;
  if (given > params.length) {
    throw new RequestError(
      `Arguments do not match SQL parameters: too many parameters, expected ${params.length} found ${given}`,
      "ARGS_INVALID",
    );
  }
  return params.map((name, i) => {
    let value;
    if (name === null) value = positional[i];
    else if (name[0] === "?") value = positional[Number(name.slice(1)) - 1];
    else value = named.has(name) ? named.get(name) : named.get(name.slice(1));
    if (value === undefined) {
      throw new RequestError(
        `Arguments do not match SQL parameters: value for parameter ${name ?? i + 1} not found`,
        "ARGS_INVALID",
      );
    }
    return value;
  });
}

/**
 * Executes one Hrana `Stmt` and returns its `StmtResult`.
 * @param {ExecContext} ctx
 * @param {unknown} stmt
 */
export async function executeStmt(ctx, stmt) {
  if (stmt === null || typeof stmt !== "object") throw protocolError("`stmt` must be an object");
  const s = /** @type {Record<string, unknown>} */ (stmt);
  const sql = resolveSql(ctx, s);
  ctx.faults?.beforeStatement(sql, s);
  const count = splitStatements(sql).length;
  if (count === 0) throw new RequestError("SQL string does not contain any statement", "SQL_NO_STATEMENT");
  if (count > 1) throw new RequestError("SQL string contains more than one statement", "SQL_MANY_STATEMENTS");
  const wantRows = s.want_rows !== false;
  const { conn } = ctx;

  const prepared = await withBusyRetry(ctx, () => conn.prepare(sql));
  const values = bindValues(conn.analyze(sql).params, s.args, s.named_args);
  const isReader = prepared.reader;

  return withBusyRetry(ctx, () => {
    const before = conn.info().totalChanges;
    const rows = [];
    if (isReader) {
      for (const row of prepared.iterate(values)) if (wantRows) rows.push(row.map(encodeValue));
    } else {
      prepared.run(values);
    }
    const info = conn.info();
    if (!isReader) conn.settled(false, true);
    return {
      cols: isReader ? prepared.columns().map((c) => ({ name: c.name, decltype: c.type ?? null })) : [],
      rows,
      // changes() keeps the count of the last INSERT/UPDATE/DELETE, so only
      // trust it when this statement changed something.
      affected_row_count: info.totalChanges !== before ? Number(info.changes) : 0,
      last_insert_rowid: info.lastInsertRowid.toString(),
    };
  });
}

/**
 * @param {unknown} cond
 * @param {number} step index of the step the condition guards
 * @param {{ results: unknown[], errors: unknown[] }} state
 * @param {Connection} conn
 * @returns {boolean}
 */
function evalCond(cond, step, state, conn) {
  if (cond === null || typeof cond !== "object") throw protocolError("A batch condition must be an object");
  const c = /** @type {Record<string, any>} */ (cond);
  const ref = () => {
    if (!Number.isInteger(c.step) || c.step < 0 || c.step >= step) {
      throw protocolError(`Batch condition refers to step ${c.step}, which has not run before step ${step}`);
    }
    return c.step;
  };
  const list = () => {
    if (!Array.isArray(c.conds)) throw protocolError(`\`${c.type}\` condition needs \`conds\``);
    return c.conds;
  };
  switch (c.type) {
    case "ok":
      return state.results[ref()] != null;
    case "error":
      return state.errors[ref()] != null;
    case "not":
      return !evalCond(c.cond, step, state, conn);
    case "and":
      return list().every((sub) => evalCond(sub, step, state, conn));
    case "or":
      return list().some((sub) => evalCond(sub, step, state, conn));
    case "is_autocommit":
      return !conn.inTransaction;
    default:
      throw protocolError(`Unknown batch condition type: ${JSON.stringify(c.type)}`);
  }
}

/**
 * Executes a Hrana `Batch`: steps in order, each guarded by its condition.
 * @param {ExecContext} ctx
 * @param {unknown} batch
 */
export async function executeBatch(ctx, batch) {
  const steps = /** @type {any} */ (batch)?.steps;
  if (!Array.isArray(steps)) throw protocolError("`batch.steps` must be an array");
  const state = { results: steps.map(() => null), errors: steps.map(() => null) };
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i];
    if (step?.condition != null && !evalCond(step.condition, i, state, ctx.conn)) continue;
    try {
      state.results[i] = await executeStmt(ctx, step?.stmt);
    } catch (error) {
      state.errors[i] = fromEngineError(error).toProto();
    }
  }
  return { step_results: state.results, step_errors: state.errors };
}

/**
 * Executes a script statement by statement, stopping at the first error.
 * @param {ExecContext} ctx
 * @param {string} sql
 */
export async function executeSequence(ctx, sql) {
  for (const statement of splitStatements(sql)) {
    await withBusyRetry(ctx, () => ctx.conn.exec(statement));
  }
}
