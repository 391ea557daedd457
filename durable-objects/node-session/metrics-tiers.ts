import {
  type Bucket,
  mergeRows,
  SERIES,
  type Series,
  sampleBucket,
  type TierRow,
} from "../../src/metrics-history/buckets";
import { downsample } from "../../src/metrics-history/downsample";
import type { HistoryQuery, HistoryRows } from "../../src/metrics-history/query";
import { autoTier, BUCKET_TIERS, finerTier, TIERS, type Tier } from "../../src/metrics-history/tiers";
import { lazySchemaSql, type Sql } from "./lazy-sql";

const SCHEMA = [
  "CREATE TABLE IF NOT EXISTS metrics_raw (at INTEGER PRIMARY KEY, series TEXT NOT NULL)",
  "CREATE TABLE IF NOT EXISTS metrics_buckets (tier TEXT NOT NULL, start INTEGER NOT NULL, series TEXT NOT NULL, PRIMARY KEY (tier, start)) WITHOUT ROWID",
];

/**
 * The node's metrics history in its Durable Object's SQLite: raw samples (`metrics_raw`) and the
 * 1m/5m/1h buckets (`metrics_buckets`), each with avg/min/max/count per series.
 *
 * Roll-ups are incremental without an accumulator: a bucket is written once, when the first sample
 * past its end arrives, from the finer tier's rows (1m from raw, 5m from 1m, 1h from 5m). So a
 * heartbeat costs one raw insert, plus one bucket write a minute, and nothing survives only in
 * memory (a hibernated object loses nothing). The still-open buckets are computed when read.
 * Retention is by time and is applied when a bucket closes.
 */
export class MetricsTiers {
  readonly #sql: Sql;
  readonly #storage: SqlStorage;
  #lastAt?: number;

  // Created on first use, like the session store's tables: a woken object pays nothing up front.
  constructor(storage: SqlStorage) {
    this.#storage = storage;
    this.#sql = lazySchemaSql(storage, SCHEMA);
  }

  /**
   * Whether this object has ever stored a sample. Asked without touching the tiers, whose first
   * read would create them: a query for a node that does not exist (its 404 is decided beside this
   * call, not before it) must leave no storage behind.
   */
  exists(): boolean {
    return (
      this.#storage
        .exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'metrics_raw'")
        .toArray().length > 0
    );
  }

  /** When the newest raw sample was taken (0 without samples). */
  lastAt(): number {
    this.#lastAt ??= this.#sql<{ at: number | null }>`SELECT max(at) AS at FROM metrics_raw`[0].at ?? 0;
    return this.#lastAt;
  }

  /** Stores one sample and closes every bucket the step from the previous sample crossed. */
  record(at: number, values: Partial<Record<Series, number>>): void {
    const last = this.lastAt();
    this.#sql`INSERT OR REPLACE INTO metrics_raw (at, series) VALUES (${at}, ${JSON.stringify(values)})`;
    if (last > 0 && at > last) this.#closeCrossed(last, at);
    this.#lastAt = Math.max(last, at);
  }

  #closeCrossed(last: number, at: number): void {
    for (const tier of BUCKET_TIERS) {
      const start = Math.floor(last / tier.sizeMs) * tier.sizeMs;
      // Tiers nest (60 s divides 300 s divides 3600 s): if this one did not cross, no coarser one did.
      if (at < start + tier.sizeMs) return;
      const finer = finerTier(tier);
      const rows = this.#stored(finer, start, start + tier.sizeMs);
      if (rows.length > 0) {
        const row = mergeRows(start, rows);
        this.#sql`INSERT OR REPLACE INTO metrics_buckets (tier, start, series)
                  VALUES (${tier.name}, ${start}, ${JSON.stringify(row.series)})`;
      }
      this.#prune(finer, at);
      this.#prune(tier, at);
    }
  }

  #prune(tier: Tier, now: number): void {
    const cutoff = now - tier.retentionMs;
    if (tier.name === "raw") this.#sql`DELETE FROM metrics_raw WHERE at < ${cutoff}`;
    else this.#sql`DELETE FROM metrics_buckets WHERE tier = ${tier.name} AND start < ${cutoff}`;
  }

  /** The stored rows of one tier with start in `[from, to)`, oldest first, keeping the series in `names`. */
  #stored(tier: Tier, from: number, to: number, names: readonly Series[] = SERIES): TierRow[] {
    if (tier.name === "raw") {
      return this.#sql<{ at: number; series: string }>`
        SELECT at, series FROM metrics_raw WHERE at >= ${from} AND at < ${to} ORDER BY at`.map((r) => {
        const values = JSON.parse(r.series) as Partial<Record<Series, number>>;
        const series: TierRow["series"] = {};
        for (const name of names) {
          const value = values[name];
          if (value !== undefined) series[name] = sampleBucket(value);
        }
        return { start: r.at, series };
      });
    }
    return this.#sql<{ start: number; series: string }>`
      SELECT start, series FROM metrics_buckets
      WHERE tier = ${tier.name} AND start >= ${from} AND start < ${to} ORDER BY start`.map((r) => {
      const stored = JSON.parse(r.series) as Partial<Record<Series, Bucket>>;
      if (names === SERIES) return { start: r.start, series: stored };
      const series: TierRow["series"] = {};
      for (const name of names) {
        const bucket = stored[name];
        if (bucket) series[name] = bucket;
      }
      return { start: r.start, series };
    });
  }

  /**
   * A tier's rows for `[from, to)`, oldest first: the closed buckets as stored, then the open one
   * (the bucket holding the newest sample) rolled up from the finer tiers on the fly. `from` is
   * aligned down to the tier's bucket so the first bucket is whole. Only the series in `names`.
   */
  read(tier: Tier, from: number, to: number, names: readonly Series[] = SERIES): TierRow[] {
    if (tier.name === "raw") return this.#stored(tier, from, to, names);
    const aligned = Math.floor(from / tier.sizeMs) * tier.sizeMs;
    const openStart = Math.floor(this.lastAt() / tier.sizeMs) * tier.sizeMs;
    const closed = this.#stored(tier, aligned, Math.min(to, openStart), names);
    if (this.lastAt() === 0 || openStart >= to || openStart + tier.sizeMs <= aligned) return closed;
    const open = this.read(finerTier(tier), Math.max(aligned, openStart), to, names);
    if (open.length > 0) closed.push(mergeRows(openStart, open, names));
    return closed;
  }

  /** How many raw samples lie in `[from, to)` (for `auto`, which prefers raw when it fits). */
  rawCount(from: number, to: number): number {
    return this.#sql<{
      n: number;
    }>`SELECT count(*) AS n FROM metrics_raw WHERE at >= ${from} AND at < ${to}`[0].n;
  }

  /** Forgets the history (the node was deleted). */
  clear(): void {
    this.#lastAt = 0;
    this.#sql`DELETE FROM metrics_raw`;
    this.#sql`DELETE FROM metrics_buckets`;
  }
}

/**
 * Answers a history query from the node's tiers: picks the tier (`auto`: the finest that fits
 * `maxPoints`; raw samples are counted only when raw could hold the range), reads it, and merges
 * buckets further when there are still too many. Only the series asked for are read into buckets,
 * merged and sent back: the other series would be most of the work and of the answer.
 */
export function queryHistory(tiers: MetricsTiers, q: HistoryQuery, now: number): HistoryRows {
  const exists = tiers.exists();
  const tier =
    q.resolution === "auto"
      ? autoTier(q.from, q.to, now, q.maxPoints, () => (exists ? tiers.rawCount(q.from, q.to) : 0))
      : TIERS[q.resolution];
  if (!exists) return { resolution: tier.name, stepMs: tier.sizeMs, rows: [] };
  const names = q.series ?? SERIES;
  const stored = tiers.read(tier, q.from, q.to, names);
  const { rows, stepMs } = downsample(stored, tier, q.from, q.to, q.maxPoints, names);
  return { resolution: tier.name, stepMs, rows };
}
