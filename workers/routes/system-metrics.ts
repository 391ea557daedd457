import type { Hono } from "hono";
import * as v from "valibot";
import { nodeClusterName } from "../../src/access/cluster-scope";
import { MetricsStreamQueryParams, SystemMetricsResponseSchema } from "../../src/node-metrics/system-schema";
import { UuidParam } from "../../src/schemas/common";
import type { AppEnv } from "../middleware/request-context";
import { defineRoute } from "../openapi/define-route";
import { metricsStream, systemSnapshot } from "../services/system-metrics";

const TAG = "Nodes.Metrics";
const params = { node_id: { schema: UuidParam, description: "Node UUID" } };
const clusterScope = { param: { name: "node_id", clusterName: nodeClusterName } } as const;

/** Registers a node's full metrics snapshot and its live stream (issue 19, beyond the contract). */
export function registerSystemMetricsRoutes(app: Hono<AppEnv>): void {
  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/nodes/{node_id}/metrics/system",
      permission: "metrics:read",
      clusterScope,
      tag: TAG,
      summary: "Get a node's full metrics snapshot",
      description:
        "Per-core CPU (iowait, steal), memory and swap, every real mount with inodes, disk IO and network rates, sockets, temperatures, and (every `METRICS_DETAIL_INTERVAL_SECONDS`) top processes, containers, systemd services and GPUs. A section the host cannot give is `{available: false, reason}`.",
      params,
      success: { status: 200, description: "The latest snapshot", data: SystemMetricsResponseSchema },
      errors: [404, 503],
    },
    async (c, { params }) => ({ data: await systemSnapshot(c.env, c.get("db"), params.node_id) }),
  );

  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/nodes/{node_id}/metrics/stream",
      permission: "metrics:read",
      clusterScope,
      tag: TAG,
      summary: "Stream a node's metrics",
      description:
        "Server-Sent Events: `status` (`{connected, status}`) at once and whenever the agent connects or goes away, `metrics` (the `/metrics/system` snapshot) every `interval` seconds, keepalive comments every 10 s, and `end` after `STREAM_MAX_LIFETIME_SECONDS` (open it again to go on). Events carry `id:` lines. While a stream is open the agent samples at its interval. 503 when the agent is not connected. EventSource clients pass a stream token as `?token=`.",
      params,
      query: MetricsStreamQueryParams,
      success: {
        status: 200,
        description: "Server-Sent Events: `status`, then `metrics` events",
        data: v.pipe(
          v.string(),
          v.description(
            'Lines of `id: 1` / `event: status` / `data: {"connected": true, "status": "healthy"}`, then `event: metrics` / `data: {…snapshot…}`',
          ),
        ),
        eventStream: true,
      },
      errors: [404, 503],
    },
    async (c, { params, query }) => metricsStream(c.env, c.get("db"), params.node_id, query.interval),
  );
}
