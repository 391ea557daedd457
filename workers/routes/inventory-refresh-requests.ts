import type { Hono } from "hono";
import { refreshRequestTargeting, SCOPE_TARGETINGS } from "../../src/access/cluster-scope";
import { refreshRequestListSpec } from "../../src/inventory-refresh-requests/list";
import { presentRefreshRequest, presentRefreshRequests } from "../../src/inventory-refresh-requests/present";
import {
  InventoryRefreshRequestCreate,
  InventoryRefreshRequestSchema,
} from "../../src/inventory-refresh-requests/schema";
import { getRefreshRequest, listRefreshRequests } from "../../src/inventory-refresh-requests/store";
import { UuidParam } from "../../src/schemas/common";
import { principalOf } from "../middleware/authorize";
import type { AppEnv } from "../middleware/request-context";
import { defineRoute } from "../openapi/define-route";
import { listRoute } from "../openapi/list-route";
import { createFleetRefresh } from "../services/inventory-refresh";
import { narrowTargeting } from "../services/targeting";

const TAG = "Nodes.Inventory";

/** Registers `/api/v1/inventory_refresh_requests`: fleet-wide "collect inventory now", tracked per node. */
export function registerInventoryRefreshRequestRoutes(app: Hono<AppEnv>): void {
  defineRoute(
    app,
    {
      method: "post",
      path: "/api/v1/inventory_refresh_requests",
      permission: "nodes:write",
      tag: TAG,
      summary: "Ask the targeted nodes to collect their inventory now",
      description:
        "Targeting as for commands (including `node_filters.tags` and `node_filters.hostname`). Connected nodes are asked at once; nodes without a connected agent are counted `offline`. Each node turns `answered` when its report arrives. For a cluster-scoped token the targeting is narrowed to its clusters (403 when no target is left).",
      body: InventoryRefreshRequestCreate,
      success: { status: 202, description: "Request created", data: InventoryRefreshRequestSchema },
      errors: [403, 422, 503],
    },
    async (c, { body }) => {
      const db = c.get("db");
      const targeting = await narrowTargeting(db, body.targeting, principalOf(c).clusterScope);
      return {
        data: await presentRefreshRequest(db, await createFleetRefresh(c.env, db, { ...body, targeting })),
      };
    },
  );

  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/inventory_refresh_requests",
      clusterScope: { targeting: { list: SCOPE_TARGETINGS.inventoryRefreshes } },
      permission: "nodes:read",
      tag: TAG,
      summary: "List inventory refresh requests",
      list: refreshRequestListSpec,
      success: {
        status: 200,
        description: "Paginated requests",
        data: InventoryRefreshRequestSchema,
        paginated: true,
      },
    },
    listRoute({ page: listRefreshRequests, present: (rows, c) => presentRefreshRequests(c.get("db"), rows) }),
  );

  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/inventory_refresh_requests/{id}",
      clusterScope: { targeting: { param: { name: "id", targeting: refreshRequestTargeting } } },
      permission: "nodes:read",
      tag: TAG,
      summary: "Get an inventory refresh request",
      params: { id: { schema: UuidParam, description: "Request ID" } },
      success: { status: 200, description: "The request", data: InventoryRefreshRequestSchema },
      errors: [404],
    },
    async (c, { params }) => {
      const db = c.get("db");
      return { data: await presentRefreshRequest(db, await getRefreshRequest(db, params.id)) };
    },
  );
}
