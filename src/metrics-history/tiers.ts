const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** The stored resolutions, finest first. */
export const TIER_NAMES = ["raw", "1m", "5m", "1h"] as const;
export type TierName = (typeof TIER_NAMES)[number];

/** A tier's bucket size (0 for raw samples) and how long its rows are kept. */
export interface Tier {
  name: TierName;
  sizeMs: number;
  retentionMs: number;
}

/** Netdata-style tiers: raw for a day, then ever coarser buckets for longer. */
export const TIERS: Record<TierName, Tier> = {
  raw: { name: "raw", sizeMs: 0, retentionMs: DAY },
  "1m": { name: "1m", sizeMs: MINUTE, retentionMs: 7 * DAY },
  "5m": { name: "5m", sizeMs: 5 * MINUTE, retentionMs: 30 * DAY },
  "1h": { name: "1h", sizeMs: HOUR, retentionMs: 400 * DAY },
};

/** The bucket tiers, finest first, each rolled up from the one before it. */
export const BUCKET_TIERS = [TIERS["1m"], TIERS["5m"], TIERS["1h"]] as const;

/** The tier a bucket tier is rolled up from. */
export function finerTier(tier: Tier): Tier {
  const i = TIER_NAMES.indexOf(tier.name);
  return TIERS[TIER_NAMES[Math.max(0, i - 1)]];
}

/**
 * The resolution `auto` picks for `[from, to)`: the finest bucket tier that still holds `from`
 * and covers the range in at most `maxPoints` buckets; raw only when the caller counted at most
 * `maxPoints` raw samples in the range (`rawCount` is only called when raw could hold `from`).
 * Falls back to 1h (the caller then merges buckets further).
 */
export function autoTier(
  from: number,
  to: number,
  now: number,
  maxPoints: number,
  rawCount: number | (() => number),
): Tier {
  const raw = () => (typeof rawCount === "number" ? rawCount : rawCount());
  if (from >= now - TIERS.raw.retentionMs && raw() <= maxPoints) return TIERS.raw;
  for (const tier of BUCKET_TIERS) {
    if (from < now - tier.retentionMs) continue;
    if (Math.ceil((to - from) / tier.sizeMs) <= maxPoints) return tier;
  }
  return TIERS["1h"];
}
