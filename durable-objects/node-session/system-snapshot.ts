import type { SystemSnapshot } from "../../src/node-metrics/system-present";
import type { MetricsSample } from "../../src/nodes/metrics-sample";
import type { LatestMetrics } from "../../src/nodes/status";
import type { HostMetrics } from "../../src/protocol/frames";
import type { SystemDetail, SystemMetrics } from "../../src/protocol/system-metrics";
import type { SessionStore } from "./store";

/** The latest metrics go to libSQL at most this often per node (riding a `last_seen_at` refresh). */
export const LATEST_METRICS_INTERVAL_MS = 60_000;

const SYSTEM_KEY = "system";
const DETAIL_KEY = "system_detail";
const WRITTEN_KEY = "latest_metrics_written_at";
/** When the newest sample without a fuller snapshot was stored (an older agent's heartbeat). */
const WITHOUT_SYSTEM_KEY = "system_absent_at";

/** A sample's snapshot as live streams see it, with the latest detail sections. */
export function snapshotOf(
  store: SessionStore,
  at: number,
  host: HostMetrics,
  system: SystemMetrics | undefined,
): SystemSnapshot {
  return { at, host, system: system ?? null, detail: store.get<SystemDetail>(DETAIL_KEY) ?? null };
}

/**
 * Keeps the newest stored sample's fuller snapshot (a `state` row, written in the same commit as
 * its sample). `undefined` with `hadSystem`: the heartbeat carried one but it was held by an
 * instance since evicted (`./sample-buffer`); the previous one stays. Without either, the agent
 * sent none, which is remembered so an old one is not shown as current.
 */
export function keepSystem(
  store: SessionStore,
  at: number,
  system: SystemMetrics | undefined,
  hadSystem: boolean,
): void {
  if (system) store.set(SYSTEM_KEY, { at, system });
  else if (!hadSystem) store.set(WITHOUT_SYSTEM_KEY, at);
}

/** Keeps the latest detail sections (`metrics_detail`, about once a minute). */
export function rememberDetail(store: SessionStore, detail: SystemDetail): void {
  store.set(DETAIL_KEY, detail);
}

/** The latest full snapshot: the newest heartbeat sample, its `system` part and the latest detail. */
export function latestSystem(store: SessionStore): SystemSnapshot | null {
  const sample = store.latestSample();
  if (!sample) return null;
  const kept = store.get<{ at: number; system: SystemMetrics }>(SYSTEM_KEY);
  return {
    at: sample.at,
    host: sample.host,
    // A heartbeat without `system` (an older agent again) must not show an old one as current; one
    // whose snapshot was lost with an evicted instance shows the one before (at most a minute old).
    system: kept && kept.at > (store.get<number>(WITHOUT_SYSTEM_KEY) ?? 0) ? kept.system : null,
    detail: kept ? (store.get<SystemDetail>(DETAIL_KEY) ?? null) : null,
  };
}

/** The node list's columns from a heartbeat's host metrics (the same percentages as `/metrics/host`). */
export function latestMetricsOf(at: number, host: HostMetrics): LatestMetrics {
  const pct = (used: number, total: number) => (total > 0 ? Math.round((used / total) * 1000) / 10 : 0);
  return {
    at,
    cpu_usage_percent: host.cpu.usage_percent,
    memory_usage_percent: pct(host.memory.total_bytes - host.memory.available_bytes, host.memory.total_bytes),
    disk_usage_percent:
      host.disk.total_bytes > 0
        ? pct(host.disk.total_bytes - host.disk.available_bytes, host.disk.total_bytes)
        : null,
    load_1m: host.cpu.load_1m,
  };
}

/** Whether the latest metrics are due for libSQL (none written in the last minute). */
export function latestMetricsDue(store: SessionStore, now: number): boolean {
  return now - (store.get<number>(WRITTEN_KEY) ?? 0) >= LATEST_METRICS_INTERVAL_MS;
}

/**
 * The latest metrics when they are due for libSQL (none written in the last minute), else
 * undefined. `markWritten` records the write once it is on its way. `latest` is read only when due.
 */
export function dueLatestMetrics(store: SessionStore, now: number, latest: () => MetricsSample | null) {
  if (!latestMetricsDue(store, now)) return undefined;
  const sample = latest();
  if (!sample) return undefined;
  return {
    metrics: latestMetricsOf(sample.at, sample.host),
    markWritten: () => store.set(WRITTEN_KEY, now),
  };
}
