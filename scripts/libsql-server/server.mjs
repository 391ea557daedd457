// A local libSQL server speaking Hrana v2 over HTTP (what `@libsql/client`
// uses for http:// URLs), on top of the `libsql` npm engine. Development and
// tests only; production uses Turso/sqld.
//
// Routes:
//   GET  /health                    -> 200
//   GET  /v2, /<ns>/v2              -> 200 (version probe)
//   POST /v2/pipeline               -> database "main"
//   POST /<ns>/v2/pipeline          -> database <ns> (created on first use)
// The client resolves "v2/pipeline" against its URL, so a namespaced client
// URL must end with "/": `http://127.0.0.1:PORT/<ns>/`.
//
// There is no authentication, so the server only answers what cannot come
// from a web page the developer visits: a request with an `Origin` header, or
// a `Host` that is not loopback (DNS rebinding), is refused with 403, and a
// pipeline POST must be `Content-Type: application/json` (a cross-origin page
// cannot send that without a CORS preflight, which is never answered).

import http from "node:http";
import { DatabaseRegistry, DEFAULT_NAMESPACE, isValidNamespace } from "./databases.mjs";
import { HttpError } from "./errors.mjs";
import { FaultInjector, FaultResponse } from "./faults.mjs";
import { handlePipeline } from "./pipeline.mjs";
import { StreamRegistry } from "./streams.mjs";

const MAX_BODY_BYTES = 32 * 1024 * 1024;
/** `/v2`, `/v2/pipeline`, `/<ns>/v2`, `/<ns>/v2/pipeline` */
const ROUTE_RE = /^\/(?:([^/]+)\/)?v2(\/pipeline)?\/?$/;
/** `127.0.0.0/8`, `::1`, `localhost` and `*.localhost` (RFC 6761). */
const LOOPBACK_RE = /^(?:127(?:\.\d{1,3}){3}|\[?::1\]?|(?:[a-z0-9-]+\.)*localhost\.?)$/i;

/**
 * True for a loopback host name or address (no port).
 * @param {string} host
 */
export const isLoopbackHost = (host) => LOOPBACK_RE.test(host);

/**
 * Client URL for a namespace on a running server (note the trailing slash).
 * @example libsqlUrl(server.url, "clusters_test") // "http://127.0.0.1:PORT/clusters_test/"
 * @param {string} baseUrl
 * @param {string} [namespace]
 */
export function libsqlUrl(baseUrl, namespace) {
  const base = baseUrl.replace(/\/+$/, "");
  return namespace ? `${base}/${namespace}/` : base;
}

/**
 * Starts the server.
 * @example const server = await startLibsqlServer({ dataDir: tmp }); ...; await server.close();
 * @param {{ host?: string, port?: number, dataDir?: string, streamIdleMs?: number,
 *   busyTimeoutMs?: number, faults?: boolean, log?: (msg: string) => void, warn?: (msg: string) => void }} [options]
 * @returns {Promise<{ url: string, port: number, close: () => Promise<void> }>}
 */
export async function startLibsqlServer({
  host = "127.0.0.1",
  port = 0,
  dataDir = process.env.DATA_DIR || ".data",
  streamIdleMs = 10000,
  busyTimeoutMs = 5000,
  faults = false,
  log = () => {},
  warn = (msg) => process.stderr.write(`${msg}\n`),
} = {}) {
  const databases = new DatabaseRegistry(dataDir);
  const streams = new StreamRegistry({ databases, idleMs: streamIdleMs, log });
  let closed = false;
  // A specific address it is bound to is a valid Host too (it cannot be a rebinding name).
  const bindHost = host === "0.0.0.0" || host === "::" ? null : host.replace(/^\[|\]$/g, "").toLowerCase();
  const ctx = {
    streams,
    busyTimeoutMs,
    isClosed: () => closed,
    bindHost,
    faults: faults ? new FaultInjector() : undefined,
  };

  const server = http.createServer((req, res) => {
    handle(ctx, req, res).catch((error) => {
      log(`internal error: ${error?.stack ?? error}`);
      send(res, 500, {
        message: `Internal server error: ${error?.message ?? error}`,
        code: "INTERNAL_ERROR",
      });
    });
  });
  // Longer than any client keeps an idle connection: closing one after 5 s raced workerd reusing it
  // under load, and the request on it failed with "Network connection lost" (a hello batch, a claim).
  server.keepAliveTimeout = 10 * 60_000;
  server.headersTimeout = server.keepAliveTimeout + 1000;

  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve(undefined);
    });
  });
  const address = /** @type {import("node:net").AddressInfo} */ (server.address());
  const urlHost = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host;
  const url = `http://${urlHost}:${address.port}`;
  log(`listening on ${url}, data in ${databases.dataDir}`);
  if (!isLoopbackHost(host)) {
    warn(
      [
        "!".repeat(78),
        `WARNING: the libSQL dev server is listening on ${host}, not on loopback.`,
        "It has NO authentication: anyone who can reach this address can read, change or",
        "delete every database in it. Use --host 127.0.0.1 unless you really mean it.",
        "!".repeat(78),
      ].join("\n"),
    );
  }

  return {
    url,
    port: address.port,
    close: async () => {
      if (closed) return;
      closed = true;
      const stopped = new Promise((resolve) => server.close(() => resolve(undefined)));
      server.closeAllConnections();
      await stopped;
      streams.closeAll();
      databases.closeAll();
    },
  };
}

/**
 * Why a request may come from a browser page rather than a client, or null.
 * @param {http.IncomingMessage} req
 * @param {string | null} bindHost
 */
function browserRisk(req, bindHost) {
  if (req.headers.origin !== undefined) return "Requests with an Origin header are refused";
  const host = (req.headers.host ?? "").toLowerCase();
  const name = host.startsWith("[") ? host.slice(0, host.indexOf("]") + 1) : host.replace(/:\d*$/, "");
  if (!isLoopbackHost(name) && name.replace(/^\[|\]$/g, "") !== bindHost) {
    return `Host ${JSON.stringify(host)} is not a loopback address`;
  }
  return null;
}

/**
 * @param {{ streams: StreamRegistry, busyTimeoutMs: number, isClosed: () => boolean,
 *   bindHost: string | null, faults?: FaultInjector }} ctx
 * @param {http.IncomingMessage} req
 * @param {http.ServerResponse} res
 */
async function handle(ctx, req, res) {
  const refused = browserRisk(req, ctx.bindHost);
  if (refused) return send(res, 403, { message: refused, code: "FORBIDDEN" });
  const pathname = (req.url ?? "/").split("?")[0];
  if (pathname === "/health" || pathname === "/") {
    return sendText(res, 200, "ok");
  }
  if (pathname === "/__faults" && ctx.faults) return handleFaults(ctx.faults, req, res);
  const match = ROUTE_RE.exec(pathname);
  if (!match) {
    return send(res, 404, { message: `Not found: ${req.method} ${pathname}`, code: "NOT_FOUND" });
  }
  const namespace = match[1] ?? DEFAULT_NAMESPACE;
  const route = match[2] ? "v2/pipeline" : "v2";
  if (!isValidNamespace(namespace)) {
    return send(res, 400, {
      message: `Invalid namespace ${JSON.stringify(namespace)}: use 1-64 of [A-Za-z0-9_-]`,
      code: "NAMESPACE_INVALID",
    });
  }
  if (route === "v2") {
    if (req.method !== "GET" && req.method !== "HEAD") return methodNotAllowed(res, "GET");
    return sendText(res, 200, "Hrana v2 over HTTP");
  }
  if (req.method !== "POST") return methodNotAllowed(res, "POST");
  const contentType = (req.headers["content-type"] ?? "").split(";")[0].trim().toLowerCase();
  if (contentType !== "application/json") {
    return send(res, 415, { message: "Content-Type must be application/json", code: "PROTOCOL_ERROR" });
  }

  let body;
  try {
    body = JSON.parse(await readBody(req));
  } catch (error) {
    if (error instanceof HttpError) return send(res, error.status, error.toProto());
    return send(res, 400, {
      message: `Malformed JSON request body: ${error.message}`,
      code: "PROTOCOL_ERROR",
    });
  }
  try {
    send(res, 200, await handlePipeline(ctx, namespace, body));
  } catch (error) {
    if (error instanceof FaultResponse) return sendText(res, error.status, error.message);
    if (!(error instanceof HttpError)) throw error;
    send(res, error.status, error.toProto());
  }
}

/**
 * Test-only: `POST /__faults` arms a rule (`faults.mjs`), `DELETE /__faults` clears them all.
 * @param {FaultInjector} faults
 * @param {http.IncomingMessage} req
 * @param {http.ServerResponse} res
 */
async function handleFaults(faults, req, res) {
  if (req.method === "DELETE") {
    faults.clear();
    return send(res, 200, {});
  }
  if (req.method !== "POST") return methodNotAllowed(res, "POST, DELETE");
  try {
    faults.add(JSON.parse(await readBody(req)));
  } catch (error) {
    return send(res, 400, { message: String(error?.message ?? error), code: "FAULT_INVALID" });
  }
  send(res, 200, {});
}

/** @param {http.IncomingMessage} req */
async function readBody(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, "Request body too large", "PROTOCOL_ERROR");
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * The client only parses an error body when the content type is exactly
 * "application/json", so no charset parameter.
 * @param {http.ServerResponse} res
 * @param {number} status
 * @param {unknown} body
 */
function send(res, status, body) {
  if (res.headersSent) return;
  const data = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(data) });
  res.end(data);
}

/**
 * @param {http.ServerResponse} res
 * @param {number} status
 * @param {string} text
 */
function sendText(res, status, text) {
  res.writeHead(status, { "content-type": "text/plain", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

/**
 * @param {http.ServerResponse} res
 * @param {string} allow
 */
function methodNotAllowed(res, allow) {
  res.setHeader("allow", allow);
  send(res, 405, { message: `Method not allowed, use ${allow}`, code: "METHOD_NOT_ALLOWED" });
}
