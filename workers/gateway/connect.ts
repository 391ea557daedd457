import type { Hono } from "hono";
import { upgradeRequest } from "../../durable-objects/node-session/requests";
import { ApiError } from "../errors";
import { authenticatedNode, nodeAuth } from "../middleware/node-auth";
import type { AppEnv } from "../middleware/request-context";
import { nodeSession } from "../services/node-sessions";

/**
 * `GET /agent/v1/connect`: the agent's WebSocket. The node's token is checked against libSQL (a
 * deleted or re-issued token is refused here) and the upgrade goes to that node's Durable Object as
 * a request of our own: the client's other headers and query never reach the object.
 */
export function registerConnectRoute(app: Hono<AppEnv>): void {
  app.get("/agent/v1/connect", nodeAuth(), async (c) => {
    if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
      throw new ApiError("bad_request", "Expected a WebSocket upgrade");
    }
    const nodeId = authenticatedNode(c);
    return nodeSession(c.env, nodeId).fetch(upgradeRequest(nodeId));
  });
}
