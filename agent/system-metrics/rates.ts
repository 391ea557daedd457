/**
 * Per-second rates from monotonically growing counters (bytes read, packets sent…), one set of
 * counters per key. The first sample of a key has no rate yet (null). A counter that went down was
 * reset (a reboot, a driver reload, a 32-bit wrap): like Prometheus, it counts as restarted from 0,
 * so the rate is the new value over the interval, never negative.
 */
export class CounterRates {
  readonly #previous = new Map<string, { at: number; values: number[] }>();

  /** Rates per second of `values` since this key's previous call at `at` (ms). */
  update(key: string, values: number[], at: number): number[] | null {
    const previous = this.#previous.get(key);
    this.#previous.set(key, { at, values });
    if (!previous || at <= previous.at || previous.values.length !== values.length) return null;
    const seconds = (at - previous.at) / 1000;
    return values.map((value, i) => {
      const before = previous.values[i];
      return round((value >= before ? value - before : value) / seconds, 0);
    });
  }

  /** Forgets keys not seen in `keep` (an interface or disk that went away). */
  retain(keep: Set<string>): void {
    for (const key of this.#previous.keys()) if (!keep.has(key)) this.#previous.delete(key);
  }
}

/** Rounds to `digits` decimals (keeps frames short). */
export function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Clamps a percentage into [0, 100], rounded to one decimal. */
export function percent(part: number, whole: number): number {
  if (!(whole > 0)) return 0;
  return Math.max(0, Math.min(100, round((part / whole) * 100, 1)));
}
