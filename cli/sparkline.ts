const BARS = "▁▂▃▄▅▆▇█";

/**
 * A one-line chart of `values` squeezed (by averaging) or kept to at most `width` cells; `null`
 * (no sample in that bucket) prints as a space. The scale runs from `min` to `max` when given.
 */
export function sparkline(
  values: (number | null)[],
  width: number,
  scale: { min?: number; max?: number } = {},
): string {
  const cells = squeeze(values, Math.max(1, width));
  const present = cells.filter((v): v is number => v !== null);
  if (present.length === 0) return " ".repeat(cells.length);
  const lo = scale.min ?? Math.min(...present);
  const hi = scale.max ?? Math.max(...present);
  const span = hi - lo;
  return cells
    .map((v) => {
      if (v === null) return " ";
      const level = span <= 0 ? 0 : Math.round(((v - lo) / span) * (BARS.length - 1));
      return BARS[Math.min(BARS.length - 1, Math.max(0, level))];
    })
    .join("");
}

function squeeze(values: (number | null)[], width: number): (number | null)[] {
  if (values.length <= width) return values;
  const out: (number | null)[] = [];
  for (let i = 0; i < width; i++) {
    const slice = values
      .slice(Math.floor((i * values.length) / width), Math.floor(((i + 1) * values.length) / width))
      .filter((v): v is number => v !== null);
    out.push(slice.length ? slice.reduce((a, b) => a + b, 0) / slice.length : null);
  }
  return out;
}
