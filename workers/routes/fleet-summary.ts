import type { Hono } from "hono";
import { SCOPE_COLUMNS } from "../../src/access/cluster-scope";
import { FleetSummarySchema, UpdatesSummarySchema } from "../../src/fleet-summary/schema";
import { fleetSummary, nodeFilterSpec, updatesSummary } from "../../src/fleet-summary/store";
import { principalOf } from "../middleware/authorize";
import type { AppEnv } from "../middleware/request-context";
import { defineRoute } from "../openapi/define-route";

/** Registers the fleet's summaries; before the node routes, so `/nodes/summary` is not taken for a node id. */
export function registerFleetSummaryRoutes(app: Hono<AppEnv>): void {
  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/nodes/summary",
      permission: "nodes:read",
      clusterScope: { list: SCOPE_COLUMNS.nodes },
      tag: "Nodes.Node",
      summary: "Summarise the fleet",
      description:
        "Counts by status, version, platform and cluster over the nodes the node list's filters select, from one grouped query.",
      list: nodeFilterSpec,
      success: { status: 200, description: "The fleet summary", data: FleetSummarySchema },
    },
    async (c, { list }) => ({
      data: await fleetSummary(c.get("db"), list, {
        clusterName: c.req.query("cluster_name"),
        scope: principalOf(c).clusterScope,
      }),
    }),
  );

  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/updates/summary",
      permission: "nodes:read",
      clusterScope: { list: SCOPE_COLUMNS.nodes },
      tag: "Nodes.Inventory",
      summary: "Summarise pending OS updates across the fleet",
      description: "Accepts the node list's filters (e.g. `cluster_name`, `tags`).",
      list: nodeFilterSpec,
      success: { status: 200, description: "The updates summary", data: UpdatesSummarySchema },
    },
    async (c, { list }) => ({ data: await updatesSummary(c.get("db"), list) }),
  );
}
