import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type Bucket,
  mergeBuckets,
  rollUp,
  sampleBucket,
  type TierRow,
} from "../../src/metrics-history/buckets";
import { downsample } from "../../src/metrics-history/downsample";
import { autoTier, TIERS } from "../../src/metrics-history/tiers";
import { historyWindow } from "../../src/metrics-history/window";

// `+ 0` turns -0 into 0: min and max of {-0, 0} depend on order, which the roll-ups need not keep.
const value = fc.double({ min: -1e6, max: 1e6, noNaN: true, noDefaultInfinity: true }).map((v) => v + 0);
const samples = fc.array(value, { minLength: 1, maxLength: 200 });

function direct(values: number[]): Bucket {
  return {
    avg: values.reduce((a, b) => a + b, 0) / values.length,
    min: Math.min(...values),
    max: Math.max(...values),
    count: values.length,
  };
}

function expectSame(actual: Bucket | null | undefined, expected: Bucket) {
  expect(actual).toBeDefined();
  if (!actual) return;
  expect(actual.min).toBe(expected.min);
  expect(actual.max).toBe(expected.max);
  expect(actual.count).toBe(expected.count);
  expect(actual.avg).toBeCloseTo(
    expected.avg,
    6 - Math.max(0, Math.ceil(Math.log10(Math.abs(expected.avg) + 1))),
  );
}

/** Splits `values` into consecutive non-empty chunks at the given cut points. */
function chunks<T>(values: T[], cuts: number[]): T[][] {
  const points = [...new Set(cuts.map((c) => c % values.length))].filter((c) => c > 0).sort((a, b) => a - b);
  const out: T[][] = [];
  let start = 0;
  for (const p of [...points, values.length]) {
    out.push(values.slice(start, p));
    start = p;
  }
  return out;
}

describe("bucket merging", () => {
  it("merged buckets of any partition equal min/max/avg/count of the raw samples", () => {
    fc.assert(
      fc.property(samples, fc.array(fc.nat(), { maxLength: 20 }), (values, cuts) => {
        const buckets = chunks(values, cuts).map((chunk) => mergeBuckets(chunk.map(sampleBucket)));
        expectSame(mergeBuckets(buckets.filter((b): b is Bucket => b !== null)), direct(values));
      }),
    );
  });

  it("merging in two levels equals merging once (associativity)", () => {
    fc.assert(
      fc.property(
        samples,
        fc.array(fc.nat(), { maxLength: 20 }),
        fc.array(fc.nat(), { maxLength: 5 }),
        (values, a, b) => {
          const level1 = chunks(values, a).map((c) => mergeBuckets(c.map(sampleBucket)) as Bucket);
          const level2 = chunks(level1, b).map((c) => mergeBuckets(c) as Bucket);
          expectSame(mergeBuckets(level2), direct(values));
        },
      ),
    );
  });

  it("an empty window is a gap, not a zero", () => {
    expect(mergeBuckets([])).toBeNull();
    expect(rollUp([], 60_000)).toEqual([]);
  });
});

// Samples at increasing instants over a few hours, each with a cpu value.
const timeline = fc
  .array(fc.tuple(fc.integer({ min: 1, max: 400_000 }), value), { minLength: 1, maxLength: 300 })
  .map((steps) => {
    let at = 1_700_000_000_000;
    return steps.map(([gap, v]) => {
      at += gap;
      return { at, v };
    });
  });

const rawRows = (points: { at: number; v: number }[]): TierRow[] =>
  points.map((p) => ({ start: p.at, series: { cpu: sampleBucket(p.v) } }));

describe("tier roll-ups", () => {
  it("1m → 5m → 1h equals rolling the raw samples straight into each bucket", () => {
    fc.assert(
      fc.property(timeline, (points) => {
        const m1 = rollUp(rawRows(points), 60_000);
        const m5 = rollUp(m1, 300_000);
        const h1 = rollUp(m5, 3_600_000);
        for (const [rows, size] of [
          [m5, 300_000],
          [h1, 3_600_000],
        ] as const) {
          for (const row of rows) {
            const inside = points.filter((p) => p.at >= row.start && p.at < row.start + size).map((p) => p.v);
            expectSame(row.series.cpu, direct(inside));
          }
          // Only buckets with samples exist: gaps stay gaps.
          const expected = new Set(points.map((p) => Math.floor(p.at / size) * size));
          expect(rows.map((r) => r.start)).toEqual([...expected]);
        }
      }),
    );
  });

  it("downsampling keeps at most max_points and keeps the extremes and the sample count", () => {
    fc.assert(
      fc.property(timeline, fc.integer({ min: 1, max: 50 }), (points, maxPoints) => {
        const rows = rollUp(rawRows(points), 60_000);
        const from = points[0].at;
        const to = points[points.length - 1].at + 1;
        const out = downsample(rows, TIERS["1m"], from, to, maxPoints);
        expect(out.rows.length).toBeLessThanOrEqual(Math.max(maxPoints, 1));
        expect(out.stepMs % 60_000).toBe(0);
        expectSame(mergeBuckets(out.rows.map((r) => r.series.cpu as Bucket)), direct(points.map((p) => p.v)));
      }),
    );
  });
});

describe("merging only the series asked for", () => {
  it("gives each asked series the buckets a full merge gives it, and no other series", () => {
    fc.assert(
      fc.property(timeline, fc.integer({ min: 1, max: 50 }), (points, maxPoints) => {
        // Two series per row; the query asks for one of them.
        const rows = points.map((p) => ({
          start: p.at,
          series: { cpu: sampleBucket(p.v), memory: sampleBucket(-p.v) },
        }));
        const from = points[0].at;
        const to = points[points.length - 1].at + 1;
        const full = downsample(rollUp(rows, 60_000), TIERS["1m"], from, to, maxPoints);
        const some = downsample(rollUp(rows, 60_000, ["memory"]), TIERS["1m"], from, to, maxPoints, [
          "memory",
        ]);
        expect(some.stepMs).toBe(full.stepMs);
        expect(some.rows.map((r) => r.start)).toEqual(full.rows.map((r) => r.start));
        for (const [i, row] of some.rows.entries()) {
          expect(Object.keys(row.series)).toEqual(["memory"]);
          expect(row.series.memory).toEqual(full.rows[i].series.memory);
        }
      }),
    );
  });
});

describe("auto resolution", () => {
  const now = 1_800_000_000_000;
  const H = 3_600_000;
  it("prefers raw when the samples fit, then the finest tier that fits and still holds from", () => {
    expect(autoTier(now - H, now, now, 500, 240).name).toBe("raw");
    expect(autoTier(now - 6 * H, now, now, 500, 1440).name).toBe("1m");
    expect(autoTier(now - 24 * H, now, now, 500, 5760).name).toBe("5m");
    expect(autoTier(now - 7 * 24 * H, now, now, 500, 0).name).toBe("1h");
    // 8 days ago is beyond the 1m tier's retention even though 5,000 points would fit.
    expect(autoTier(now - 8 * 24 * H, now - 7.9 * 24 * H, now, 5000, 0).name).toBe("5m");
    expect(autoTier(now - 400 * 24 * H, now, now, 500, 0).name).toBe("1h");
    // Raw samples are counted only when raw could hold the range.
    let counted = 0;
    const count = () => {
      counted++;
      return 0;
    };
    expect(autoTier(now - 30 * 24 * H, now, now, 500, count).name).toBe("1h");
    expect(counted).toBe(0);
    expect(autoTier(now - H, now, now, 500, count).name).toBe("raw");
    expect(counted).toBe(1);
  });
});

describe("history window", () => {
  const now = 1_800_000_000_000;
  it("defaults to the last 24 h and takes a range ending at to", () => {
    expect(historyWindow({}, now)).toEqual({ from: now - 86_400_000, to: now });
    expect(historyWindow({ range: "1h", to: now - 5 }, now)).toEqual({ from: now - 3_600_005, to: now - 5 });
  });
  it("names the parameter of a bad window", () => {
    expect(() => historyWindow({ from: now, to: now - 1 }, now)).toThrow(
      expect.objectContaining({ code: "bad_request", details: { from: ["must be before to"] } }),
    );
    expect(() => historyWindow({ from: now - 1, range: "1h" }, now)).toThrow(
      expect.objectContaining({ details: { range: ["give either range or from, not both"] } }),
    );
  });
});
