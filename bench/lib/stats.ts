// Small statistics helpers: percentiles (nearest rank), summaries, rounding.

export function percentile(values: number[], p: number): number {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

export interface Summary {
  n: number;
  lost: number;
  min: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
  stdev: number;
}

export function summarize(values: number[]): Summary {
  const ok = values.filter((v) => Number.isFinite(v));
  const mean = ok.reduce((s, v) => s + v, 0) / (ok.length || 1);
  const variance = ok.reduce((s, v) => s + (v - mean) ** 2, 0) / (ok.length || 1);
  return {
    n: ok.length,
    lost: values.length - ok.length,
    min: round(Math.min(...ok)),
    p50: round(percentile(ok, 50)),
    p90: round(percentile(ok, 90)),
    p99: round(percentile(ok, 99)),
    max: round(Math.max(...ok)),
    mean: round(mean),
    stdev: round(Math.sqrt(variance)),
  };
}

export function round(v: number, digits = 2): number {
  if (!Number.isFinite(v)) return v;
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

export const ratio = (a: number, b: number) => round(a / b, 2);
export const mb = (bytes: number) => round(bytes / 1024 / 1024, 1);
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
