import type { HostMetrics } from "../protocol/frames";
import type { SystemDetail, SystemMetrics } from "../protocol/system-metrics";
import { isoSeconds } from "../time";
import type { SystemMetricsResponse } from "./system-schema";

/** What a node's session keeps of its latest full snapshot. */
export interface SystemSnapshot {
  at: number;
  host: HostMetrics;
  /** Null from an agent without `metrics_stream.v1`. */
  system: SystemMetrics | null;
  detail: SystemDetail | null;
}

const GIB = 1024 ** 3;
const gb = (bytes: number) => Math.round((bytes / GIB) * 100) / 100;
const pct = (part: number, whole: number) => (whole > 0 ? Math.round((part / whole) * 1000) / 10 : 0);
const OLD_AGENT = { available: false as const, reason: "the agent does not report this (upgrade it)" };

function sized(total: number, used: number) {
  return {
    total_bytes: total,
    total_gb: gb(total),
    used_bytes: used,
    used_gb: gb(used),
    usage_percent: pct(used, total),
  };
}

/**
 * Renders a node's latest snapshot in the contract's naming. `memory` and `disk` come from the
 * heartbeat's host metrics (so they match `/metrics/host`); the rest from its `system` part, and
 * the detail sections from the latest detail collection.
 */
export function presentSystemMetrics(
  node: { id: string; clusterName: string },
  snap: SystemSnapshot,
): SystemMetricsResponse {
  const { host, system, detail } = snap;
  const cpu = system?.cpu.available ? system.cpu : null;
  const mem = system?.memory.available ? system.memory : null;
  const memUsed = Math.max(host.memory.total_bytes - host.memory.available_bytes, 0);
  const diskUsed = Math.max(host.disk.total_bytes - host.disk.available_bytes, 0);
  return {
    node_id: node.id,
    cluster_name: node.clusterName,
    collected_at: isoSeconds(snap.at),
    detail_collected_at: detail ? isoSeconds(detail.collected_at) : null,
    uptime_seconds: host.uptime_seconds,
    cpu: {
      cores_count: host.cpu.cores,
      usage_percent: host.cpu.usage_percent,
      load_1m: host.cpu.load_1m,
      load_5m: host.cpu.load_5m,
      load_15m: host.cpu.load_15m,
      user_percent: cpu?.user_percent ?? null,
      system_percent: cpu?.system_percent ?? null,
      iowait_percent: cpu?.iowait_percent ?? null,
      steal_percent: cpu?.steal_percent ?? null,
      cores: cpu?.cores ?? [],
    },
    memory: {
      ...sized(host.memory.total_bytes, memUsed),
      available_bytes: host.memory.available_bytes,
      available_gb: gb(host.memory.available_bytes),
      buffers_bytes: mem?.buffers_bytes ?? null,
      cached_bytes: mem?.cached_bytes ?? null,
    },
    swap: mem
      ? {
          available: true,
          ...sized(mem.swap_total_bytes, mem.swap_used_bytes),
          free_bytes: mem.swap_free_bytes,
          free_gb: gb(mem.swap_free_bytes),
        }
      : system && !system.memory.available
        ? system.memory
        : OLD_AGENT,
    disk: {
      ...sized(host.disk.total_bytes, diskUsed),
      available_bytes: host.disk.available_bytes,
      available_gb: gb(host.disk.available_bytes),
    },
    mounts: system
      ? system.mounts.available
        ? {
            available: true,
            mounts: system.mounts.mounts.map((m) => ({
              ...m,
              total_gb: gb(m.total_bytes),
              used_gb: gb(m.used_bytes),
              free_gb: gb(m.free_bytes),
              inodes_usage_percent: pct(m.inodes_used, m.inodes_total),
            })),
          }
        : system.mounts
      : OLD_AGENT,
    disk_io: system?.disk_io ?? OLD_AGENT,
    network: system?.network ?? OLD_AGENT,
    sockets: system?.sockets ?? OLD_AGENT,
    temperatures: system?.temperatures ?? OLD_AGENT,
    processes: detail?.processes ?? OLD_AGENT,
    containers: detail?.containers ?? OLD_AGENT,
    services: detail?.services ?? OLD_AGENT,
    gpu: detail?.gpu ?? OLD_AGENT,
  };
}
