import type { HostMetrics } from "../protocol/frames";

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

/** The series a node's history keeps, each derived from one heartbeat's host metrics. */
export const SERIES = ["cpu", "memory", "disk", "load_1m", "load_5m", "load_15m"] as const;
export type Series = (typeof SERIES)[number];

/** One row of a tier: a bucket start (epoch ms) and a bucket per series present in it. */
export interface TierRow {
  start: number;
  series: Partial<Record<Series, Bucket>>;
}

function percent(used: number, total: number): number {
  return total > 0 ? Math.round((used / total) * 10_000) / 100 : 0;
}

/** The value of every series in one heartbeat (memory and disk as percent used). */
export function seriesValues(host: HostMetrics): Record<Series, number> {
  return {
    cpu: host.cpu.usage_percent,
    memory: percent(host.memory.used_bytes, host.memory.total_bytes),
    disk: percent(host.disk.used_bytes, host.disk.total_bytes),
    load_1m: host.cpu.load_1m,
    load_5m: host.cpu.load_5m,
    load_15m: host.cpu.load_15m,
  };
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
 * Groups rows into buckets of `sizeMs` aligned to the epoch and merges each series per bucket.
 * Rows must be sorted by start; the output is too, and holds only buckets that had data.
 */
export function rollUp(rows: readonly TierRow[], sizeMs: number): TierRow[] {
  const out: TierRow[] = [];
  let start = Number.NaN;
  let group: TierRow[] = [];
  const flush = () => {
    if (group.length > 0) out.push(mergeRows(start, group));
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

/** Merges several rows into one row starting at `start`, series by series. */
export function mergeRows(start: number, rows: readonly TierRow[]): TierRow {
  const series: Partial<Record<Series, Bucket>> = {};
  for (const name of SERIES) {
    const merged = mergeBuckets(rows.flatMap((r) => (r.series[name] ? [r.series[name]] : [])));
    if (merged) series[name] = merged;
  }
  return { start, series };
}
