import { agentMetricsView, hostMetricsView } from "../nodes/metrics-view";
import type { AgentMetrics, HostMetricsResponse, UnifiedMetrics } from "./schema";

/** One heartbeat sample as the node's session serves it (`MetricsSample`). */
export type Sample = Parameters<typeof hostMetricsView>[0];

/** The node a metrics answer names. */
export interface MetricsNode {
  id: string;
  clusterName: string;
}

/** Renders the latest sample as the contract's bare `HostMetricsResponse`. */
export function presentHostMetrics(node: MetricsNode, sample: Sample): HostMetricsResponse {
  return { cluster_name: node.clusterName, node_id: node.id, ...hostMetricsView(sample) };
}

/** Renders the latest sample as the `data` of the contract's `AgentMetricsResponse`. */
export function presentAgentMetrics(node: MetricsNode, sample: Sample): AgentMetrics {
  return { cluster_name: node.clusterName, node_id: node.id, ...agentMetricsView(sample) };
}

/** Renders the latest sample as the `data` of the contract's `UnifiedMetricsResponse`. */
export function presentUnifiedMetrics(node: MetricsNode, sample: Sample): UnifiedMetrics {
  const { timestamp, ...host } = hostMetricsView(sample);
  const { timestamp: _agentTimestamp, ...agent } = agentMetricsView(sample);
  return {
    agent: { available: true, ...agent },
    cluster_name: node.clusterName,
    host: { available: true, ...host },
    node_id: node.id,
    timestamp,
  };
}
