import type { AgentMetrics, HostMetrics } from "../protocol/frames";

/**
 * One heartbeat as the node's session stores it and serves it to the Worker: when it arrived, the
 * host and agent metrics, and the agent's self-checks.
 */
export interface MetricsSample {
  at: number;
  host: HostMetrics;
  agent: AgentMetrics;
  checks: { name: string; ok: boolean; message?: string }[];
}
