import { and, eq } from "drizzle-orm";
import type { Hono } from "hono";
import { NODE_ID_HEADER } from "../../durable-objects/node-session";
import { sha256Hex } from "../../src/crypto/secrets";
import { nodes } from "../../src/db/schema";
import { ApiError } from "../errors";
import type { AppEnv } from "../middleware/request-context";
import { nodeSession } from "../services/node-sessions";

/**
 * `GET /agent/v1/connect`: the agent's WebSocket. The Worker checks the node's
 * token against libSQL (a deleted or re-issued token is refused here) and hands
 * the upgrade to that node's Durable Object.
 */
export function registerConnectRoute(app: Hono<AppEnv>): void {
  app.get("/agent/v1/connect", async (c) => {
    if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
      throw new ApiError("bad_request", "Expected a WebSocket upgrade");
    }
    const match = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header("authorization") ?? "");
    if (!match) throw new ApiError("unauthorized", "Missing node token");
    const [node] = await c
      .get("db")
      .select({ id: nodes.id })
      .from(nodes)
      .where(and(eq(nodes.apiTokenHash, await sha256Hex(match[1]))))
      .limit(1);
    if (!node) throw new ApiError("unauthorized", "Unknown or revoked node token");
    const headers = new Headers(c.req.raw.headers);
    headers.set(NODE_ID_HEADER, node.id);
    const stub = await nodeSession(c.env, node.id);
    return stub.fetch(new Request(c.req.raw.url, { headers, method: "GET" }));
  });
}
