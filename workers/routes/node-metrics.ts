import type { Hono } from "hono";
import {
  presentAgentMetrics,
  presentHostMetrics,
  presentUnifiedMetrics,
} from "../../src/node-metrics/present";
import {
  AgentMetricsSchema,
  HostMetricsResponseSchema,
  UnifiedMetricsSchema,
} from "../../src/node-metrics/schema";
import { UuidParam } from "../../src/schemas/common";
import type { AppEnv } from "../middleware/request-context";
import { defineRoute } from "../openapi/define-route";
import { latestSample } from "../services/latest-sample";

const TAG = "Nodes.Metrics";
const params = { node_id: { schema: UuidParam, description: "Node UUID" } };

/** Registers node metrics, answered from the node's Durable Object (the Edge Admin contract's Nodes.Metrics). */
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
        data: UnifiedMetricsSchema,
      },
      errors: [404, 503],
    },
    async (c, { params }) => {
      const { node, sample } = await latestSample(c.env, c.get("db"), params.node_id);
      return { data: presentUnifiedMetrics(node, sample) };
    },
  );

  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/nodes/{node_id}/metrics/host",
      tag: TAG,
      summary: "Get host metrics for a node",
      description:
        "CPU, memory, root disk and uptime. As in the contract, the object is not wrapped in `{data, meta}`.",
      params,
      success: {
        status: 200,
        description: "CPU, memory, root disk and uptime",
        data: HostMetricsResponseSchema,
        bare: true,
      },
      errors: [404, 503],
    },
    async (c, { params }) => {
      const { node, sample } = await latestSample(c.env, c.get("db"), params.node_id);
      return { data: presentHostMetrics(node, sample) };
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
      success: {
        status: 200,
        description: "The agent's own counters and health checks",
        data: AgentMetricsSchema,
      },
      errors: [404, 503],
    },
    async (c, { params }) => {
      const { node, sample } = await latestSample(c.env, c.get("db"), params.node_id);
      return { data: presentAgentMetrics(node, sample) };
    },
  );
}
