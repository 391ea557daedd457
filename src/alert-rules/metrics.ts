import { HOST_SERIES, hostSeriesValues, systemSeriesValues } from "../metrics-history/buckets";
import type { HostMetrics } from "../protocol/frames";
import type { SystemMetrics } from "../protocol/system-metrics";

/**
 * Metrics a rule can watch: the history's host series (memory and disk in percent used), the
 * 1-minute load per core, the number of failing self-checks, `node_unreachable` (1 while the node's
 * agent is gone, 0 otherwise; evaluated when the session loses the agent and on its alarm), and the
 * fuller heartbeat's metrics: swap in percent used, the hottest temperature sensor in °C, the
 * fullest real mount in percent (`disk_any_mount`) and the highest inode usage of any mount in
 * percent (`inode_usage`). From the inventory's `updates` section (kept by the session, evaluated with
 * every heartbeat): the number of pending security updates (`security_updates_pending`) and
 * `reboot_required` (1 when the machine asks for a reboot, 0 otherwise). A heartbeat without a
 * section leaves its rules' state as it was.
 */
export const ALERT_METRICS = [
  ...HOST_SERIES,
  "load_per_core",
  "check_failing",
  "node_unreachable",
  "swap",
  "temperature",
  "disk_any_mount",
  "inode_usage",
  "security_updates_pending",
  "reboot_required",
] as const;
export type AlertMetric = (typeof ALERT_METRICS)[number];

function percent(used: number, total: number): number {
  return total > 0 ? Math.round((used / total) * 10_000) / 100 : 0;
}

/** The fuller snapshot's alert metrics, each only when its section has something to measure. */
function systemAlertValues(system: SystemMetrics): Partial<Record<AlertMetric, number>> {
  const out: Partial<Record<AlertMetric, number>> = {};
  const series = systemSeriesValues(system);
  if (series.swap !== undefined) out.swap = series.swap;
  if (series.temperature !== undefined) out.temperature = series.temperature;
  const mounts = system.mounts.available ? system.mounts.mounts : [];
  if (mounts.length > 0)
    out.disk_any_mount = Math.max(...mounts.map((m) => percent(m.used_bytes, m.total_bytes)));
  // Filesystems without inodes (btrfs, some FUSE) report 0 total: they can't run out of them.
  const withInodes = mounts.filter((m) => m.inodes_total > 0);
  if (withInodes.length > 0)
    out.inode_usage = Math.max(...withInodes.map((m) => percent(m.inodes_used, m.inodes_total)));
  return out;
}

/**
 * The value of every heartbeat-driven metric in one heartbeat (`node_unreachable` is 0); the
 * fuller snapshot's metrics only when the heartbeat carries `system` with their sections.
 */
export function heartbeatAlertValues(
  host: HostMetrics,
  checks: readonly { ok: boolean }[],
  system?: SystemMetrics,
): Partial<Record<AlertMetric, number>> {
  const cores = Math.max(1, host.cpu.cores);
  return {
    ...hostSeriesValues(host),
    load_per_core: Math.round((host.cpu.load_1m / cores) * 1000) / 1000,
    check_failing: checks.filter((c) => !c.ok).length,
    node_unreachable: 0,
    ...(system ? systemAlertValues(system) : {}),
  };
}

/** What the alert metrics need of the inventory's `updates` section (null: not reported or unavailable). */
export interface UpdatesFacts {
  security_count: number;
  reboot_required: boolean;
}

/** The `updates` section's alert metrics; none when the section is not known. */
export function updatesAlertValues(
  updates: UpdatesFacts | null | undefined,
): Partial<Record<AlertMetric, number>> {
  if (!updates) return {};
  return {
    security_updates_pending: updates.security_count,
    reboot_required: updates.reboot_required ? 1 : 0,
  };
}
