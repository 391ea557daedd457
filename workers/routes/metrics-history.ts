import type { Hono } from "hono";
import { nodeClusterName } from "../../src/access/cluster-scope";
import { HistoryQueryParams, MetricsHistorySchema } from "../../src/metrics-history/schema";
import { UuidParam } from "../../src/schemas/common";
import type { AppEnv } from "../middleware/request-context";
import { defineRoute } from "../openapi/define-route";
import { readNodeHistory } from "../services/metrics-history";

/** Registers a node's metrics history, answered from the tiers in its Durable Object. */
export function registerMetricsHistoryRoutes(app: Hono<AppEnv>): void {
  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/nodes/{node_id}/metrics/history",
      permission: "metrics:read",
      clusterScope: { param: { name: "node_id", clusterName: nodeClusterName } },
      tag: "Nodes.Metrics",
      summary: "Get a node's metrics history",
      description:
        "Avg/min/max per series from the node's tiers (raw 24 h, 1m 7 d, 5m 30 d, 1h 400 d). Merged buckets keep the min of mins, max of maxes and the count-weighted average; offline periods are gaps, not zeros.",
      params: { node_id: { schema: UuidParam, description: "Node UUID" } },
      query: HistoryQueryParams,
      success: { status: 200, description: "Points, oldest first", data: MetricsHistorySchema },
      errors: [404],
    },
    async (c, { params, query }) => {
      return { data: await readNodeHistory(c.env, c.get("db"), params.node_id, query) };
    },
  );
}
