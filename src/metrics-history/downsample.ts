import { rollUp, SERIES, type Series, type TierRow } from "./buckets";
import type { Tier } from "./tiers";

/**
 * Merges consecutive rows into wider buckets until at most `maxPoints` remain (Grafana's
 * `maxDataPoints`). The width is a whole multiple of the tier's bucket (of a second for raw), so
 * every output bucket is a union of whole stored buckets and the merge stays exact.
 * Only the series in `names` are merged (by default all).
 * Returns the rows and the width used (the tier's own size when nothing was merged).
 */
export function downsample(
  rows: readonly TierRow[],
  tier: Tier,
  from: number,
  to: number,
  maxPoints: number,
  names: readonly Series[] = SERIES,
): { rows: TierRow[]; stepMs: number } {
  if (rows.length <= maxPoints) return { rows: [...rows], stepMs: tier.sizeMs };
  const unit = tier.sizeMs > 0 ? tier.sizeMs : 1000;
  let step = Math.max(unit, Math.ceil((to - from) / maxPoints / unit) * unit);
  let out = rollUp(rows, step, names);
  // Epoch alignment can add one bucket at either edge; widen until the cap holds.
  while (out.length > maxPoints) {
    step += unit;
    out = rollUp(rows, step, names);
  }
  return { rows: out, stepMs: step };
}
