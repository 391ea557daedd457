import type { Hono } from "hono";
import * as v from "valibot";
import { nodeClusterName, SCOPE_COLUMNS } from "../../src/access/cluster-scope";
import { HistoryQueryParams } from "../../src/metrics-history/schema";
import {
  FLEET_EXPORT_LIMIT,
  fleetExport,
  fleetLatestMetrics,
  historyExport,
  MetricsExportFormat,
  snapshotExport,
} from "../../src/node-metrics/export";
import { FLEET_STREAM_MAX_NODES, fleetStreamNodes } from "../../src/node-metrics/fleet-stream";
import { MetricsStreamQueryParams, SystemMetricsResponseSchema } from "../../src/node-metrics/system-schema";
import { nodeListSpec } from "../../src/nodes/list";
import { UuidParam } from "../../src/schemas/common";
import type { AppEnv } from "../middleware/request-context";
import { defineRoute } from "../openapi/define-route";
import { fleetMetricsStream } from "../services/fleet-metrics-stream";
import { readNodeHistory } from "../services/metrics-history";
import { metricsStream, systemSnapshot } from "../services/system-metrics";

const TAG = "Nodes.Metrics";
const params = { node_id: { schema: UuidParam, description: "Node UUID" } };
const clusterScope = { param: { name: "node_id", clusterName: nodeClusterName } } as const;
const format = { schema: MetricsExportFormat, description: "json (default) or csv" };

function download(body: string, type: "csv" | "json", name: string): Response {
  return new Response(body, {
    headers: {
      "content-type": type === "csv" ? "text/csv; charset=utf-8" : "application/json",
      "content-disposition": `attachment; filename="${name}.${type}"`,
    },
  });
}

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

  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/nodes/{node_id}/metrics/export",
      permission: "metrics:read",
      clusterScope,
      tag: TAG,
      summary: "Export a node's metrics",
      description:
        "With `from`, `to` or `range`: the history (same parameters as `/metrics/history`), one row per point with `<series>_avg|min|max` columns in CSV. Without: the latest snapshot (CSV: one row of headline values; JSON: the `/metrics/system` snapshot). Sent as an attachment.",
      params,
      query: { format, ...HistoryQueryParams },
      success: { status: 200, description: "The export", data: null, file: ["application/json", "text/csv"] },
      errors: [404, 503],
    },
    async (c, { params, query }) => {
      const type = query.format;
      const name = `node-${params.node_id}-metrics`;
      if (query.from === undefined && query.to === undefined && query.range === undefined)
        return download(
          snapshotExport(await systemSnapshot(c.env, c.get("db"), params.node_id), type),
          type,
          name,
        );
      const history = await readNodeHistory(c.env, c.get("db"), params.node_id, query);
      return download(historyExport(history, query.metrics, type), type, `${name}-history`);
    },
  );

  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/metrics/export",
      permission: "metrics:read",
      clusterScope: { list: SCOPE_COLUMNS.nodes },
      tag: TAG,
      summary: "Export the fleet's latest metrics",
      description: `The latest cpu, memory, root disk usage and 1-minute load of every node matching the node list's filters, in its order (\`order_by\`), at most ${FLEET_EXPORT_LIMIT.toLocaleString("en")} nodes; paging parameters are ignored. Values are refreshed at most once a minute per node; a node that never reported has empty values.`,
      list: nodeListSpec,
      query: { format },
      success: { status: 200, description: "The export", data: null, file: ["application/json", "text/csv"] },
    },
    async (c, { list, query }) => {
      const rows = await fleetLatestMetrics(c.get("db"), list);
      return download(fleetExport(rows, query.format), query.format, "fleet-metrics");
    },
  );

  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/metrics/stream",
      permission: "metrics:read",
      clusterScope: { list: SCOPE_COLUMNS.nodes },
      tag: TAG,
      summary: "Stream several nodes' metrics",
      description: `Server-Sent Events for the nodes the node list's filters select (at most ${FLEET_STREAM_MAX_NODES}; more is a 422): \`nodes\` (\`{node_ids, interval_seconds}\`) first, then each node's \`status\` and \`metrics\` events as \`/nodes/{node_id}/metrics/stream\` sends them, with \`node_id\` in the data. A node whose agent is offline gets one \`status\` event with \`connected: false\`. Each followed agent samples at \`interval\` only while the stream is open; \`end\` comes when every node's stream has ended (\`STREAM_MAX_LIFETIME_SECONDS\`). Paging parameters are ignored.`,
      list: nodeListSpec,
      query: MetricsStreamQueryParams,
      success: {
        status: 200,
        description: "Server-Sent Events: `nodes`, then `status` and `metrics` events per node",
        data: v.pipe(
          v.string(),
          v.description('Lines of `id: 2` / `event: metrics` / `data: {"node_id": "…", …snapshot…}`'),
        ),
        eventStream: true,
      },
      errors: [422],
    },
    async (c, { list, query }) =>
      fleetMetricsStream(c.env, await fleetStreamNodes(c.get("db"), list), query.interval),
  );
}
