import { HOST_SERIES, hostSeriesValues } from "../metrics-history/buckets";
import type { HostMetrics } from "../protocol/frames";

/**
 * Metrics a rule can watch: the history's series (memory and disk in percent used), the 1-minute
 * load per core, the number of failing self-checks, and `node_unreachable` (1 while the node's
 * agent is gone, 0 otherwise; evaluated when the session loses the agent and on its alarm). The
 * issue's swap, inode and temperature follow the fuller heartbeat.
 */
export const ALERT_METRICS = [...HOST_SERIES, "load_per_core", "check_failing", "node_unreachable"] as const;
export type AlertMetric = (typeof ALERT_METRICS)[number];

/** The value of every heartbeat-driven metric in one heartbeat (all but `node_unreachable`, which is 0). */
export function heartbeatAlertValues(
  host: HostMetrics,
  checks: readonly { ok: boolean }[],
): Record<AlertMetric, number> {
  const cores = Math.max(1, host.cpu.cores);
  return {
    ...hostSeriesValues(host),
    load_per_core: Math.round((host.cpu.load_1m / cores) * 1000) / 1000,
    check_failing: checks.filter((c) => !c.ok).length,
    node_unreachable: 0,
  };
}
