import type { Context, MiddlewareHandler } from "hono";
import { createDatabase, type Database } from "../../src/db/client";
import { type Config, type Env, loadConfig } from "../env";

export interface AppVariables {
  requestId: string;
  config: Config;
  db: Database;
}

export type AppEnv = { Bindings: Env; Variables: AppVariables };
export type AppContext = Context<AppEnv>;

const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{8,128}$/;
const databases = new Map<string, Database>();

function databaseFor(config: Config): Database {
  const key = `${config.libsqlUrl}\n${config.libsqlAuthToken ?? ""}`;
  let db = databases.get(key);
  if (!db) {
    db = createDatabase({ url: config.libsqlUrl, authToken: config.libsqlAuthToken });
    databases.set(key, db);
  }
  return db;
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
 * in the `x-request-id` header, and puts the parsed config and db client on the context.
 */
export function requestContext(): MiddlewareHandler<AppEnv> {
  return async function requestContextMiddleware(c, next) {
    const incoming = c.req.header("x-request-id");
    c.set("requestId", incoming && SANE_REQUEST_ID.test(incoming) ? incoming : crypto.randomUUID());
    c.header("x-request-id", c.get("requestId"));
    const config = loadConfig(c.env);
    c.set("config", config);
    c.set("db", databaseFor(config));
    await next();
    c.header("x-request-id", c.get("requestId"));
  };
}
