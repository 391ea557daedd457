// POST /v2/pipeline: runs a pipeline of stream requests on a new stream or
// on the stream named by the baton. Every request gets a result; a failing
// request does not stop the ones after it (Hrana over HTTP semantics).

import { fromEngineError, HttpError, protocolError, RequestError } from "./errors.mjs";
import { executeBatch, executeSequence, executeStmt, resolveSql } from "./execute.mjs";

/**
 * @typedef {import("./streams.mjs").Stream} Stream
 * @typedef {import("./streams.mjs").StreamRegistry} StreamRegistry
 * @typedef {{ streams: StreamRegistry, busyTimeoutMs: number, isClosed: () => boolean,
 *   faults?: import("./faults.mjs").FaultInjector }} PipelineContext
 */

/**
 * @param {PipelineContext} ctx
 * @param {string} namespace
 * @param {unknown} body the parsed JSON request body
 */
export async function handlePipeline(ctx, namespace, body) {
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw new HttpError(400, "The request body must be a JSON object", "PROTOCOL_ERROR");
  }
  const { baton, requests } = /** @type {Record<string, unknown>} */ (body);
  if (!Array.isArray(requests)) {
    throw new HttpError(400, "The request body needs a `requests` array", "PROTOCOL_ERROR");
  }
  const stream =
    baton === undefined || baton === null
      ? ctx.streams.create(namespace)
      : ctx.streams.acquire(baton, namespace);

  const results = [];
  try {
    for (const request of requests) {
      try {
        const response = await handleRequest(ctx, stream, request);
        results.push({ type: "ok", response });
      } catch (error) {
        if (!(error instanceof RequestError) && !isEngineError(error)) throw error;
        results.push({ type: "error", error: fromEngineError(error).toProto() });
      }
    }
  } catch (error) {
    // An unexpected failure: the stream cannot be trusted any more.
    stream.close();
    ctx.streams.release(stream);
    throw error;
  }
  return { baton: ctx.streams.release(stream), base_url: null, results };
}

/** @param {unknown} error */
const isEngineError = (error) =>
  typeof (/** @type {any} */ (error)?.code) === "string" &&
  /** @type {any} */ (error).code.startsWith("SQLITE_");

/**
 * @param {PipelineContext} ctx
 * @param {Stream} stream
 * @param {unknown} request
 */
async function handleRequest(ctx, stream, request) {
  if (request === null || typeof request !== "object") throw protocolError("A request must be an object");
  const req = /** @type {Record<string, any>} */ (request);
  if (stream.closed) throw new RequestError("The stream has already been closed", "STREAM_CLOSED");
  const exec = () => ({
    conn: stream.conn,
    sqls: stream.sqls,
    busyTimeoutMs: ctx.busyTimeoutMs,
    isClosed: () => stream.closed || ctx.isClosed(),
    faults: ctx.faults,
  });
  if (req.type === "execute") ctx.faults?.beforeRequest(stream, [req.stmt]);
  if (req.type === "batch" && Array.isArray(req.batch?.steps))
    ctx.faults?.beforeRequest(
      stream,
      req.batch.steps.map((step) => step?.stmt),
    );

  switch (req.type) {
    case "close":
      stream.close();
      return { type: "close" };
    case "execute":
      return { type: "execute", result: await executeStmt(exec(), req.stmt) };
    case "batch":
      return { type: "batch", result: await executeBatch(exec(), req.batch) };
    case "sequence":
      await executeSequence(exec(), resolveSql(stream, req));
      return { type: "sequence" };
    case "describe":
      return { type: "describe", result: describe(stream, resolveSql(stream, req)) };
    case "store_sql": {
      if (!Number.isInteger(req.sql_id)) throw protocolError("`sql_id` must be an integer");
      if (typeof req.sql !== "string") throw protocolError("`sql` must be a string");
      if (stream.sqls.has(req.sql_id)) throw protocolError(`SQL text with id ${req.sql_id} already exists`);
      stream.sqls.set(req.sql_id, req.sql);
      return { type: "store_sql" };
    }
    case "close_sql":
      stream.sqls.delete(req.sql_id);
      return { type: "close_sql" };
    case "get_autocommit":
      return { type: "get_autocommit", is_autocommit: !stream.conn.inTransaction };
    default:
      throw protocolError(`Unknown request type: ${JSON.stringify(req.type)}`);
  }
}

/**
 * Describes a statement without running it. Parameter names come from our
 * tokenizer and `is_readonly` is a keyword heuristic: the engine exposes
 * neither.
 * @param {Stream} stream
 * @param {string} sql
 */
function describe(stream, sql) {
  let prepared;
  try {
    prepared = stream.conn.prepare(sql);
  } catch (error) {
    stream.conn.noteFailure();
    throw fromEngineError(error);
  }
  const { params, firstWord, words } = stream.conn.analyze(sql);
  const writes = ["insert", "update", "delete", "replace", "create", "drop", "alter"].some((w) =>
    words.has(w),
  );
  const readonly = (firstWord === "select" || firstWord === "values" || firstWord === "with") && !writes;
  return {
    params: params.map((name) => ({ name })),
    cols: prepared.reader ? prepared.columns().map((c) => ({ name: c.name, decltype: c.type ?? null })) : [],
    is_explain: firstWord === "explain",
    is_readonly: readonly || firstWord === "explain",
  };
}
