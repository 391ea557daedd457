import type { Hono } from "hono";
import { nodeClusterName } from "../../src/access/cluster-scope";
import { presentNode } from "../../src/nodes/present";
import { NodeResponseSchema } from "../../src/nodes/schema";
import { getNode } from "../../src/nodes/store";
import { revokeNodeToken, rotateNodeToken } from "../../src/nodes/tokens";
import { UuidParam } from "../../src/schemas/common";
import type { AppEnv } from "../middleware/request-context";
import { defineRoute } from "../openapi/define-route";
import { nodeSession } from "../services/node-sessions";

const TAG = "Nodes.Node";
const idParam = { id: { schema: UuidParam, description: "Node ID" } };

/** Registers a node's token operations: `rotate_token` and `revoke_token` (review H1, C18). */
export function registerNodeTokenRoutes(app: Hono<AppEnv>): void {
  defineRoute(
    app,
    {
      method: "patch",
      path: "/api/v1/nodes/{id}/rotate_token",
      permission: "nodes:write",
      clusterScope: { param: { name: "id", clusterName: nodeClusterName } },
      tag: TAG,
      summary: "Rotate a node's API token",
      description:
        "Issues a new `api_token` (the old one stops working at once) and pushes it to the connected agent, which saves it in its state dir before acknowledging. An agent that is offline needs the new token from this answer.",
      params: idParam,
      success: { status: 200, description: "The node with its new token", data: NodeResponseSchema },
      errors: [404, 503],
    },
    async (c, { params }) => {
      const db = c.get("db");
      const { apiToken } = await rotateNodeToken(db, c.get("config").encryptionKey, params.id);
      await (await nodeSession(c.env, params.id)).pushToken(apiToken);
      return { data: await presentNode(await getNode(db, params.id), c.get("config")) };
    },
  );

  defineRoute(
    app,
    {
      method: "patch",
      path: "/api/v1/nodes/{id}/revoke_token",
      permission: "nodes:write",
      clusterScope: { param: { name: "id", clusterName: nodeClusterName } },
      tag: TAG,
      summary: "Revoke a node's API token",
      description:
        "Invalidates the token and closes the agent's socket (close code 4001; the agent exits and must enrol again with a key of the node's cluster, which needs no proof of the old token).",
      params: idParam,
      success: { status: 200, description: "The node; its token no longer works", data: NodeResponseSchema },
      errors: [404, 503],
    },
    async (c, { params }) => {
      const db = c.get("db");
      await revokeNodeToken(db, c.get("config").encryptionKey, params.id);
      await (await nodeSession(c.env, params.id)).closeForRevokedToken();
      return { data: await presentNode(await getNode(db, params.id), c.get("config")) };
    },
  );
}
