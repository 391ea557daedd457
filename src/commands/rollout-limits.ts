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

/**
 * `max_errors` and `rollout_order` only mean something in a rollout: each is refused, at its own
 * path, unless `max_concurrency` is given too. Generic over the request it sits in (a command or a
 * self-update request), which only has to carry the rollout fields.
 */
export function needsMaxConcurrency<TInput extends Record<string, unknown> & { max_concurrency?: string }>(
  key: "max_errors" | "rollout_order",
): v.BaseValidation<TInput, TInput, v.BaseIssue<unknown>> {
  // A partial check, not a check: it still runs when other fields of the request are invalid, so
  // every problem is reported at once.
  const requirement = v.partialCheck(
    [[key], ["max_concurrency"]] as never,
    (b: Record<string, unknown>) => b[key] === undefined || b.max_concurrency !== undefined,
    "needs max_concurrency",
  ) as unknown as v.BaseValidation<TInput, TInput, v.BaseIssue<unknown>>;
  return v.forward<TInput, v.BaseIssue<unknown>, [typeof key]>(requirement, [key] as never);
}
