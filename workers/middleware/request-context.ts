import type { Context, MiddlewareHandler } from "hono";
import type { Principal } from "../../src/access/principal";
import { type Config, type Env, loadConfig } from "../../src/config";
import { createDatabase, type Database } from "../../src/db/client";
import { createLogger, type Logger } from "../../src/log";

export interface AppVariables {
  requestId: string;
  config: Config;
  db: Database;
  /** The request's logger, with `request_id` bound. */
  log: Logger;
  /** The agent's node on `/agent/v1` routes guarded by `nodeAuth` (read it with `authenticatedNode`). */
  nodeId?: string;
  /** Set by `defineRoute` for every non-public operation (workers/middleware/authenticate.ts). */
  principal?: Principal;
  /** True once the handler wrote its own audit event in its batch, so `defineRoute` writes none. */
  audited?: boolean;
  /** CSP hashes of the inline scripts of the page this route answers (workers/middleware/security-headers.ts). */
  inlineScriptHashes?: readonly string[];
}

export type AppEnv = { Bindings: Env; Variables: AppVariables };
export type AppContext = Context<AppEnv>;

const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{8,128}$/;

/**
 * A client per request, never one per isolate: the client queues statements behind a
 * concurrency limit, so a shared one makes a request wait on another request's I/O. workerd
 * cancels such a request ("code had hung"), its queued slot is never released, and every later
 * request of the isolate that touches libSQL fails. Creating the web client is only object setup.
 */
function databaseFor(config: Config): Database {
  return createDatabase({ url: config.libsqlUrl, authToken: config.libsqlAuthToken });
}

/** `meta` of every response: the request id and the response time. */
export function responseMeta(c: Context) {
  return {
    request_id: (c.get("requestId") as string | undefined) ?? crypto.randomUUID(),
    timestamp: new Date().toISOString(),
  };
}

/**
 * Gives each request an id (an incoming sane `x-request-id` is kept), echoes it
 * in the `x-request-id` header, and puts the logger (request id bound), the parsed config and the
 * db client on the context.
 */
export function requestContext(): MiddlewareHandler<AppEnv> {
  return async function requestContextMiddleware(c, next) {
    const incoming = c.req.header("x-request-id");
    c.set("requestId", incoming && SANE_REQUEST_ID.test(incoming) ? incoming : crypto.randomUUID());
    c.header("x-request-id", c.get("requestId"));
    c.set("log", createLogger({ fields: { request_id: c.get("requestId") } }));
    const config = loadConfig(c.env);
    c.set("config", config);
    c.set("db", databaseFor(config));
    await next();
    c.header("x-request-id", c.get("requestId"));
  };
}
