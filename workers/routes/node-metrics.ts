import type { Hono } from "hono";
import * as v from "valibot";
import type { MetricsSample } from "../../durable-objects/node-session/store";
import { agentMetricsView, hostMetricsView } from "../../src/nodes/metrics-view";
import { getNode } from "../../src/nodes/store";
import { UuidParam } from "../../src/schemas/common";
import { ApiError } from "../errors";
import type { AppContext, AppEnv } from "../middleware/request-context";
import { defineRoute } from "../openapi/define-route";
import { respond } from "../respond";
import { callNodeSession } from "../services/node-sessions";

const TAG = "Nodes.Metrics";
const params = { node_id: { schema: UuidParam, description: "Node UUID" } };
const AnyObject = v.record(v.string(), v.unknown());

async function latestSample(c: AppContext, nodeId: string) {
  const node = await getNode(c.get("db"), nodeId);
  const { body } = await callNodeSession<{ latest: MetricsSample | null }>(
    c.env,
    nodeId,
    "/internal/metrics",
  );
  if (!body.latest) throw new ApiError("service_unavailable", "This node has not reported metrics yet");
  return { node, sample: body.latest };
}

/** Registers node metrics, answered from the node's Durable Object (seed: Nodes.Metrics). */
export function registerNodeMetricsRoutes(app: Hono<AppEnv>): void {
  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/nodes/{node_id}/metrics",
      tag: TAG,
      summary: "Get unified metrics for a node",
      params,
      success: {
        status: 200,
        description: "Host and agent metrics from the latest heartbeat",
        data: AnyObject,
      },
      errors: [404, 503],
    },
    async (c, { params }) => {
      const { node, sample } = await latestSample(c, params.node_id);
      const host = hostMetricsView(sample);
      const agent = agentMetricsView(sample);
      return respond(c, {
        agent: { available: true, ...agent, timestamp: undefined },
        cluster_name: node.clusterName,
        host: { available: true, cpu: host.cpu, disk: host.disk, memory: host.memory, uptime: host.uptime },
        node_id: node.id,
        timestamp: host.timestamp,
      });
    },
  );

  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/nodes/{node_id}/metrics/host",
      tag: TAG,
      summary: "Get host metrics for a node",
      params,
      success: { status: 200, description: "CPU, memory, root disk and uptime", data: AnyObject },
      errors: [404, 503],
    },
    async (c, { params }) => {
      const { node, sample } = await latestSample(c, params.node_id);
      return respond(c, { cluster_name: node.clusterName, node_id: node.id, ...hostMetricsView(sample) });
    },
  );

  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/nodes/{node_id}/metrics/agent",
      tag: TAG,
      summary: "Get agent metrics for a node",
      params,
      success: { status: 200, description: "The agent's own counters and health checks", data: AnyObject },
      errors: [404, 503],
    },
    async (c, { params }) => {
      const { node, sample } = await latestSample(c, params.node_id);
      return respond(c, { cluster_name: node.clusterName, node_id: node.id, ...agentMetricsView(sample) });
    },
  );
}
