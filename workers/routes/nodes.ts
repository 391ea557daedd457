import type { Hono } from "hono";
import * as v from "valibot";
import { assertClusterWritable, nodeClusterName, SCOPE_COLUMNS } from "../../src/access/cluster-scope";
import { tombstoneInsert } from "../../src/node-tombstones/store";
import { nodeListSpec } from "../../src/nodes/list";
import { updateNodeMetadata } from "../../src/nodes/metadata";
import { presentNode, presentNodes } from "../../src/nodes/present";
import { ChangeClusterRequest, NodeResponseSchema, NodeUpdateRequest } from "../../src/nodes/schema";
import { deleteNode, getNode, listNodes, setSelfUpdateEnabled } from "../../src/nodes/store";
import { UuidParam } from "../../src/schemas/common";
import { auditInBatch } from "../audit/in-batch";
import { principalOf } from "../middleware/authorize";
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
      permission: "nodes:read",
      clusterScope: { list: SCOPE_COLUMNS.nodes },
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
      permission: "nodes:read",
      clusterScope: { param: { name: "id", clusterName: nodeClusterName } },
      audit: { read: true },
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
      permission: "nodes:write",
      clusterScope: { param: { name: "id", clusterName: nodeClusterName } },
      tag: TAG,
      summary: "Update a node",
      description:
        "Settable fields: `self_update_enabled`, and the operator fields `display_name` (≤ 128), `tags` (≤ 50, lower-cased, deduplicated, `^[a-z0-9][a-z0-9_.:=-]{0,62}$`), `notes` (≤ 10,000) and `custom_urls` (≤ 20 `{name, url}`, http/https). `tags` and `custom_urls` replace the whole list; `null` clears `display_name` or `notes`.",
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
      await updateNodeMetadata(db, params.id, body);
      return { data: await presentNode(await getNode(db, params.id), c.get("config")) };
    },
  );

  defineRoute(
    app,
    {
      method: "delete",
      path: "/api/v1/nodes/{id}",
      permission: "nodes:write",
      clusterScope: { param: { name: "id", clusterName: nodeClusterName } },
      tag: TAG,
      summary: "Delete a node",
      description:
        "Removes the node and its aliases; its agent is disconnected and told it was deleted. The id may enrol again with a valid key (a new node), unless `block_reenroll=true`, which records a tombstone: enrolment with this id is then refused (403) until `DELETE /api/v1/node_tombstones/{node_id}`.",
      params: idParam,
      query: {
        block_reenroll: {
          schema: v.picklist(["true", "false"], "must be true or false"),
          description: "Also refuse any later enrolment with this node id (see /api/v1/node_tombstones)",
        },
      },
      success: { status: 204, description: "Deleted", data: null },
      errors: [404, 503],
    },
    async (c, { params, query }) => {
      const db = c.get("db");
      // The tombstone goes in the delete's batch, after its audit event (which follows the delete).
      const tombstone = [];
      if (query.block_reenroll === "true") {
        const node = await getNode(db, params.id);
        tombstone.push(
          tombstoneInsert(db, { nodeId: node.id, clusterName: node.clusterName, hostname: node.hostname }),
        );
      }
      await deleteNode(db, params.id, [
        auditInBatch(c, db, "node.deleted", { type: "node", id: params.id, status: 204 }),
        ...tombstone,
      ]);
      // The token is gone from libSQL first, so the agent cannot reconnect; then its session is told.
      await nodeSession(c.env, params.id).forget();
    },
  );

  defineRoute(
    app,
    {
      method: "patch",
      path: "/api/v1/nodes/{id}/change_cluster",
      permission: "nodes:write",
      clusterScope: { param: { name: "id", clusterName: nodeClusterName } },
      tag: TAG,
      summary: "Change a node's cluster",
      params: idParam,
      body: ChangeClusterRequest,
      success: single("The moved node"),
      errors: [404, 409, 422, 503],
    },
    async (c, { params, body }) => {
      const db = c.get("db");
      assertClusterWritable(body.cluster_name, principalOf(c).clusterScope, "cluster_name");
      const moved = await changeNodeCluster(db, params.id, body.cluster_name, (tx) =>
        auditInBatch(c, tx, "node.change_cluster", {
          type: "node",
          id: params.id,
          status: 200,
          details: { cluster_name: body.cluster_name },
        }),
      );
      const node = await getNode(db, params.id);
      // Best effort: a connected agent learns its new cluster now; an offline one on its next hello.
      await nodeSession(c.env, params.id)
        .changeCluster(moved.to)
        .catch(() => undefined);
      return { data: await presentNode(node, c.get("config")) };
    },
  );
}
