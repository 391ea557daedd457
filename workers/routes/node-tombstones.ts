import type { Hono } from "hono";
import { SCOPE_COLUMNS, tombstoneClusterName } from "../../src/access/cluster-scope";
import { nodeTombstoneListSpec } from "../../src/node-tombstones/list";
import { presentTombstone } from "../../src/node-tombstones/present";
import { NodeTombstoneResponseSchema } from "../../src/node-tombstones/schema";
import { deleteTombstone, listTombstones } from "../../src/node-tombstones/store";
import { UuidParam } from "../../src/schemas/common";
import type { AppEnv } from "../middleware/request-context";
import { defineRoute } from "../openapi/define-route";
import { listRoute } from "../openapi/list-route";

const TAG = "Nodes.NodeTombstone";

/** Registers `/api/v1/node_tombstones`: node ids blocked from enrolling (`DELETE /nodes/{id}?block_reenroll=true`). */
export function registerNodeTombstoneRoutes(app: Hono<AppEnv>): void {
  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/node_tombstones",
      permission: "nodes:read",
      clusterScope: { list: SCOPE_COLUMNS.tombstones },
      tag: TAG,
      summary: "List node ids blocked from enrolling",
      description:
        "Each entry was written by `DELETE /api/v1/nodes/{id}?block_reenroll=true`; enrolment with its id answers 403 until it is deleted.",
      list: nodeTombstoneListSpec,
      success: {
        status: 200,
        description: "Paginated list of node tombstones",
        data: NodeTombstoneResponseSchema,
        paginated: true,
      },
    },
    listRoute({ page: listTombstones, present: async (rows) => rows.map(presentTombstone) }),
  );

  defineRoute(
    app,
    {
      method: "delete",
      path: "/api/v1/node_tombstones/{node_id}",
      permission: "nodes:write",
      clusterScope: { param: { name: "node_id", clusterName: tombstoneClusterName } },
      tag: TAG,
      summary: "Allow a blocked node id to enrol again",
      params: { node_id: { schema: UuidParam, description: "Node ID" } },
      success: { status: 204, description: "Unblocked", data: null },
      errors: [404, 503],
    },
    async (c, { params }) => {
      await deleteTombstone(c.get("db"), params.node_id);
    },
  );
}
