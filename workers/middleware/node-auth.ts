import { eq } from "drizzle-orm";
import type { MiddlewareHandler } from "hono";
import { sha256Hex } from "../../src/crypto/secrets";
import type { Database } from "../../src/db/client";
import { nodes } from "../../src/db/schema";
import { ApiError } from "../errors";
import { bearerToken } from "./bearer";
import type { AppContext, AppEnv } from "./request-context";

/** Options of `nodeAuth`. */
export interface NodeAuthOptions {
  /** Resolves a token to its node id (null: unknown or revoked); by default its SHA-256 against `nodes.api_token_hash`. */
  verifyToken?: (db: Database, token: string) => Promise<string | null>;
}

async function nodeForToken(db: Database, token: string): Promise<string | null> {
  const [node] = await db
    .select({ id: nodes.id })
    .from(nodes)
    .where(eq(nodes.apiTokenHash, await sha256Hex(token)))
    .limit(1);
  return node?.id ?? null;
}

/**
 * Requires the node's own `Authorization: Bearer <api_token>` (the agent's gateway routes) and puts
 * the node's id on the context (`authenticatedNode(c)`). A deleted node or a re-issued token is
 * refused here, before anything reaches the node's session.
 * @example app.get("/agent/v1/ssh/authorized_keys", nodeAuth(), (c) => … authenticatedNode(c) …)
 */
export function nodeAuth(options: NodeAuthOptions = {}): MiddlewareHandler<AppEnv> {
  const verifyToken = options.verifyToken ?? nodeForToken;
  return async function nodeAuthMiddleware(c, next) {
    const token = bearerToken(c.req.header("authorization"));
    if (!token) throw new ApiError("unauthorized", "Missing node token");
    const nodeId = await verifyToken(c.get("db"), token);
    if (!nodeId) throw new ApiError("unauthorized", "Unknown or revoked node token");
    c.set("nodeId", nodeId);
    await next();
  };
}

/** The node `nodeAuth` authenticated; throws (a 500) on a route that forgot the middleware. */
export function authenticatedNode(c: AppContext): string {
  const nodeId = c.get("nodeId");
  if (!nodeId) throw new Error("authenticatedNode: the route does not use nodeAuth()");
  return nodeId;
}
