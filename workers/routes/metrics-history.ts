import type { Hono } from "hono";
import { nodeClusterName } from "../../src/access/cluster-scope";
import { presentHistory } from "../../src/metrics-history/present";
import { HistoryQueryParams, MetricsHistorySchema } from "../../src/metrics-history/schema";
import { historyWindow } from "../../src/metrics-history/window";
import { assertNodeExists } from "../../src/nodes/store";
import { UuidParam } from "../../src/schemas/common";
import type { AppEnv } from "../middleware/request-context";
import { defineRoute } from "../openapi/define-route";
import { nodeSession } from "../services/node-sessions";

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
      const window = historyWindow(query, Date.now());
      // The node's existence (404) and its session's answer are asked together: one round trip
      // instead of two in a row. A session of an unknown node answers without creating storage.
      const [, rows] = await Promise.all([
        assertNodeExists(c.get("db"), params.node_id),
        nodeSession(c.env, params.node_id).metricsHistory({
          ...window,
          resolution: query.resolution,
          maxPoints: query.max_points,
          series: query.metrics,
        }),
      ]);
      return { data: presentHistory(params.node_id, window, query.metrics, rows) };
    },
  );
}
