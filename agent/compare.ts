// Sort comparators that do not touch ICU. `String.prototype.localeCompare` loads ICU's collator and
// its collation data from the `node` binary: ~2.6 MB more resident (file-backed) and ~0.5 MB private
// for the rest of the process's life, measured on Node 20 (issue 25, docs/agent-footprint.md).
// The agent sorts only to make a section's content hash stable, so code-point order is enough.

/** Code-point order (what `<` does on strings): stable across hosts, locales and Node versions. */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Runs of digits compare as numbers, the rest in code-point order: `hwmon2` before `hwmon10`.
 * @example ["temp10", "temp2"].sort(compareNatural) // ["temp2", "temp10"]
 */
export function compareNatural(a: string, b: string): number {
  const left = a.match(/\d+|\D+/g) ?? [];
  const right = b.match(/\d+|\D+/g) ?? [];
  for (let i = 0; i < Math.min(left.length, right.length); i++) {
    const [x, y] = [left[i], right[i]];
    const numeric = /^\d/.test(x) && /^\d/.test(y);
    const order = numeric ? Number(x) - Number(y) || compareText(x, y) : compareText(x, y);
    if (order !== 0) return order;
  }
  return left.length - right.length;
}
