import type { HostMetrics } from "../protocol/frames";
import type { SystemMetrics } from "../protocol/system-metrics";

/**
 * One series over one time bucket. Keeping min and max beside the average is what lets a spike
 * survive downsampling; `count` is what makes merged averages exact (count-weighted).
 */
export interface Bucket {
  avg: number;
  min: number;
  max: number;
  count: number;
}

/** The series every heartbeat carries (its host metrics). */
export const HOST_SERIES = ["cpu", "memory", "disk", "load_1m", "load_5m", "load_15m"] as const;
/**
 * The series of the fuller snapshot (agents with `metrics_stream.v1`), present only when the host
 * has the section: swap in percent used, the hottest sensor in °C, and network receive and send
 * rates in bytes per second summed over the interfaces the agent reports (loopback left out).
 */
export const SYSTEM_SERIES = ["swap", "temperature", "net_rx_bps", "net_tx_bps"] as const;
/** The series a node's history keeps. */
export const SERIES = [...HOST_SERIES, ...SYSTEM_SERIES] as const;
export type Series = (typeof SERIES)[number];
export type HostSeries = (typeof HOST_SERIES)[number];

/** One row of a tier: a bucket start (epoch ms) and a bucket per series present in it. */
export interface TierRow {
  start: number;
  series: Partial<Record<Series, Bucket>>;
}

function percent(used: number, total: number): number {
  return total > 0 ? Math.round((used / total) * 10_000) / 100 : 0;
}

/**
 * The value of every series in one heartbeat (memory and disk as percent used); the fuller
 * snapshot's series only when `system` has their section.
 */
export function seriesValues(host: HostMetrics, system?: SystemMetrics): Partial<Record<Series, number>> {
  return { ...hostSeriesValues(host), ...(system ? systemSeriesValues(system) : {}) };
}

/** The value of every series the host metrics give. */
export function hostSeriesValues(host: HostMetrics): Record<HostSeries, number> {
  return {
    cpu: host.cpu.usage_percent,
    memory: percent(host.memory.used_bytes, host.memory.total_bytes),
    disk: percent(host.disk.used_bytes, host.disk.total_bytes),
    load_1m: host.cpu.load_1m,
    load_5m: host.cpu.load_5m,
    load_15m: host.cpu.load_15m,
  };
}

/** The fuller snapshot's series, each only when its section is available (and, for rates, has interfaces). */
export function systemSeriesValues(system: SystemMetrics): Partial<Record<Series, number>> {
  const out: Partial<Record<Series, number>> = {};
  const memory = system.memory;
  if (memory.available && memory.swap_total_bytes > 0)
    out.swap = percent(memory.swap_used_bytes, memory.swap_total_bytes);
  const temps = system.temperatures;
  if (temps.available && temps.sensors.length > 0)
    out.temperature = Math.max(...temps.sensors.map((t) => t.celsius));
  const net = system.network;
  if (net.available && net.interfaces.length > 0) {
    out.net_rx_bps = Math.round(net.interfaces.reduce((sum, i) => sum + i.rx_bytes_per_second, 0));
    out.net_tx_bps = Math.round(net.interfaces.reduce((sum, i) => sum + i.tx_bytes_per_second, 0));
  }
  return out;
}

/** A raw sample as a one-sample bucket, so raw rows and tier rows merge the same way. */
export function sampleBucket(value: number): Bucket {
  return { avg: value, min: value, max: value, count: 1 };
}

/**
 * Merges buckets of one series: min of mins, max of maxes, count-weighted average. Null for none
 * (an empty window is a gap, never a zero).
 */
export function mergeBuckets(buckets: readonly Bucket[]): Bucket | null {
  let count = 0;
  let sum = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const b of buckets) {
    if (b.count <= 0) continue;
    count += b.count;
    sum += b.avg * b.count;
    if (b.min < min) min = b.min;
    if (b.max > max) max = b.max;
  }
  if (count === 0) return null;
  // The weighted mean can drift outside [min, max] by a rounding error; clamp so a bucket stays coherent.
  const avg = Math.min(max, Math.max(min, sum / count));
  return { avg, min, max, count };
}

/**
 * Groups rows into buckets of `sizeMs` aligned to the epoch and merges each series per bucket
 * (of `names`, by default every series). Rows must be sorted by start; the output is too, and holds
 * only buckets that had data.
 */
export function rollUp(
  rows: readonly TierRow[],
  sizeMs: number,
  names: readonly Series[] = SERIES,
): TierRow[] {
  const out: TierRow[] = [];
  let start = Number.NaN;
  let group: TierRow[] = [];
  const flush = () => {
    if (group.length > 0) out.push(mergeRows(start, group, names));
    group = [];
  };
  for (const row of rows) {
    const s = Math.floor(row.start / sizeMs) * sizeMs;
    if (s !== start) {
      flush();
      start = s;
    }
    group.push(row);
  }
  flush();
  return out;
}

/** Merges several rows into one row starting at `start`, series by series (of `names`, by default all). */
export function mergeRows(
  start: number,
  rows: readonly TierRow[],
  names: readonly Series[] = SERIES,
): TierRow {
  const series: Partial<Record<Series, Bucket>> = {};
  const buckets: Bucket[] = [];
  for (const name of names) {
    buckets.length = 0;
    for (const r of rows) {
      const b = r.series[name];
      if (b) buckets.push(b);
    }
    const merged = mergeBuckets(buckets);
    if (merged) series[name] = merged;
  }
  return { start, series };
}
