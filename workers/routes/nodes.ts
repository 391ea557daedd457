import type { Hono } from "hono";
import { nodeListSpec } from "../../src/nodes/list";
import { presentNode, presentNodes } from "../../src/nodes/present";
import { ChangeClusterRequest, NodeResponseSchema, NodeUpdateRequest } from "../../src/nodes/schema";
import { deleteNode, getNode, listNodes, setSelfUpdateEnabled } from "../../src/nodes/store";
import { UuidParam } from "../../src/schemas/common";
import type { AppEnv } from "../middleware/request-context";
import { defineRoute } from "../openapi/define-route";
import { listRoute } from "../openapi/list-route";
import { changeNodeCluster } from "../services/change-cluster";
import { nodeSession } from "../services/node-sessions";

const TAG = "Nodes.Node";

const idParam = { id: { schema: UuidParam, description: "Node ID" } };
const single = (description: string) => ({ status: 200 as const, description, data: NodeResponseSchema });

/** Registers `/api/v1/nodes` (the Edge Admin contract's Nodes.Node). */
export function registerNodeRoutes(app: Hono<AppEnv>): void {
  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/nodes",
      tag: TAG,
      summary: "List all nodes",
      list: nodeListSpec,
      success: {
        status: 200,
        description: "Paginated list of nodes",
        data: NodeResponseSchema,
        paginated: true,
      },
    },
    listRoute({ page: listNodes, present: (rows, c) => presentNodes(rows, c.get("config")) }),
  );

  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/nodes/{id}",
      tag: TAG,
      summary: "Get a specific node",
      params: idParam,
      success: single("The node"),
      errors: [404],
    },
    async (c, { params }) => ({
      data: await presentNode(await getNode(c.get("db"), params.id), c.get("config")),
    }),
  );

  defineRoute(
    app,
    {
      method: "patch",
      path: "/api/v1/nodes/{id}",
      tag: TAG,
      summary: "Update a node",
      description: "Settable fields: `self_update_enabled`.",
      params: idParam,
      body: NodeUpdateRequest,
      success: single("The updated node"),
      errors: [404, 422, 503],
    },
    async (c, { params, body }) => {
      const db = c.get("db");
      if (body.self_update_enabled !== undefined) {
        await setSelfUpdateEnabled(db, params.id, body.self_update_enabled);
      }
      return { data: await presentNode(await getNode(db, params.id), c.get("config")) };
    },
  );

  defineRoute(
    app,
    {
      method: "delete",
      path: "/api/v1/nodes/{id}",
      tag: TAG,
      summary: "Delete a node",
      description: "Removes the node and its aliases; its agent is disconnected and told it was deleted.",
      params: idParam,
      success: { status: 204, description: "Deleted", data: null },
      errors: [404, 503],
    },
    async (c, { params }) => {
      await deleteNode(c.get("db"), params.id);
      // The token is gone from libSQL first, so the agent cannot reconnect; then its session is told.
      await nodeSession(c.env, params.id).forget();
    },
  );

  defineRoute(
    app,
    {
      method: "patch",
      path: "/api/v1/nodes/{id}/change_cluster",
      tag: TAG,
      summary: "Change a node's cluster",
      params: idParam,
      body: ChangeClusterRequest,
      success: single("The moved node"),
      errors: [404, 409, 422, 503],
    },
    async (c, { params, body }) => {
      const db = c.get("db");
      const moved = await changeNodeCluster(db, params.id, body.cluster_name);
      const node = await getNode(db, params.id);
      // Best effort: a connected agent learns its new cluster now; an offline one on its next hello.
      await nodeSession(c.env, params.id)
        .changeCluster(moved.to)
        .catch(() => undefined);
      return { data: await presentNode(node, c.get("config")) };
    },
  );
}
