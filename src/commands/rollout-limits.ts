import * as v from "valibot";

/** The order a rollout gives nodes their turn. */
export const ROLLOUT_ORDERS = ["oldest", "random"] as const;
/** A rollout's states (the command's `rollout.status`). */
export const ROLLOUT_STATUSES = ["running", "paused", "completed", "stopped", "cancelled"] as const;
export type RolloutStatus = (typeof ROLLOUT_STATUSES)[number];

const PERCENT = /^(\d{1,3})%$/;

/**
 * A rollout limit as a request gives it: a whole number (at least `min`) or a percentage string
 * "1%"–"100%". Comes out as the string that is stored ("2", "10%").
 */
export function LimitInput(min: number) {
  return v.pipe(
    v.union(
      [
        v.pipe(v.number(), v.integer(), v.minValue(min)),
        v.pipe(
          v.string(),
          v.regex(PERCENT),
          v.check((s) => {
            const n = Number(PERCENT.exec(s)?.[1]);
            return n >= min && n <= 100;
          }),
        ),
      ],
      `must be an integer of at least ${min} or a percentage such as "10%" (${min}–100%)`,
    ),
    v.transform((x) => String(x)),
  );
}

/**
 * Resolves a stored limit against the number of targets: a percentage rounds down (SSM does the
 * same) but a concurrency never falls below 1, so "10%" of 5 nodes still runs one at a time.
 */
export function resolveLimit(limit: string, targets: number, floor: number): number {
  const percent = PERCENT.exec(limit);
  const n = percent ? Math.floor((targets * Number(percent[1])) / 100) : Number(limit);
  return Math.max(floor, n);
}
