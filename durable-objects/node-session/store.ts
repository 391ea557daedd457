import type { MetricsSample } from "../../src/nodes/metrics-sample";
import { lazySchemaSql, type Sql } from "./lazy-sql";

/** Samples kept per node (24 h at the default 15 s heartbeat would be 5,760; a bounded recent window is enough here). */
export const METRICS_HISTORY_LIMIT = 720;
const LOG_LIMIT = 200;
/** Rows beyond a limit are deleted on about one write in this many: a prune per write would double the heartbeat's writes. */
const PRUNE_ONE_IN = 16;

const SCHEMA = [
  "CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
  "CREATE TABLE IF NOT EXISTS metrics (at INTEGER PRIMARY KEY, host TEXT NOT NULL, agent TEXT NOT NULL, checks TEXT NOT NULL)",
  "CREATE TABLE IF NOT EXISTS connection_log (id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, event TEXT NOT NULL, detail TEXT)",
];

/**
 * The node's own storage inside its Durable Object (SQLite): small key/value
 * state, the metrics history and a connection log, each bounded.
 */
export class SessionStore {
  // Values read or written by this instance; the object is the only writer of its storage.
  readonly #cache = new Map<string, string | undefined>();
  #latestSampleAt?: number;

  readonly #sql: Sql;

  // Tables are created when a statement first finds them missing (see lazySchemaSql).
  constructor(storage: SqlStorage) {
    this.#sql = lazySchemaSql(storage, SCHEMA);
  }

  get<T>(key: string): T | undefined {
    if (!this.#cache.has(key)) {
      const [row] = this.#sql<{ value: string }>`SELECT value FROM state WHERE key = ${key}`;
      this.#cache.set(key, row?.value);
    }
    const value = this.#cache.get(key);
    return value === undefined ? undefined : (JSON.parse(value) as T);
  }

  set(key: string, value: unknown): void {
    const text = JSON.stringify(value);
    if (this.#cache.get(key) === text) return;
    this.#sql`INSERT INTO state (key, value) VALUES (${key}, ${text})
             ON CONFLICT(key) DO UPDATE SET value = excluded.value`;
    this.#cache.set(key, text);
  }

  /** Stores a sample; the history is kept to `METRICS_HISTORY_LIMIT` rows, give or take a few between prunes. */
  addSample(sample: MetricsSample): void {
    this.#sql`INSERT OR REPLACE INTO metrics (at, host, agent, checks)
             VALUES (${sample.at}, ${JSON.stringify(sample.host)}, ${JSON.stringify(sample.agent)}, ${JSON.stringify(sample.checks)})`;
    this.#latestSampleAt = Math.max(this.#latestSampleAt ?? 0, sample.at);
    if (Math.random() * PRUNE_ONE_IN < 1) this.pruneSamples();
  }

  /** A sample taken at `at` is on its way (held in memory before it is stored): presence counts it now. */
  heard(at: number): void {
    this.#latestSampleAt = Math.max(this.latestSampleAt(), at);
  }

  /** When the newest sample was taken, stored or `heard` (0 without samples). */
  latestSampleAt(): number {
    this.#latestSampleAt ??= this.#sql<{ at: number | null }>`SELECT max(at) AS at FROM metrics`[0].at ?? 0;
    return this.#latestSampleAt;
  }

  pruneSamples(): void {
    this
      .#sql`DELETE FROM metrics WHERE at <= (SELECT at FROM metrics ORDER BY at DESC LIMIT 1 OFFSET ${METRICS_HISTORY_LIMIT})`;
  }

  latestSample(): MetricsSample | null {
    return this.samples(1)[0] ?? null;
  }

  /** Newest first. */
  samples(limit = METRICS_HISTORY_LIMIT): MetricsSample[] {
    return this.#sql<{ at: number; host: string; agent: string; checks: string }>`
      SELECT at, host, agent, checks FROM metrics ORDER BY at DESC LIMIT ${limit}`.map((r) => ({
      at: r.at,
      host: JSON.parse(r.host),
      agent: JSON.parse(r.agent),
      checks: JSON.parse(r.checks),
    }));
  }

  sampleCount(): number {
    return this.#sql<{ n: number }>`SELECT count(*) AS n FROM metrics`[0].n;
  }

  log(event: string, detail: string | null = null): void {
    this.#sql`INSERT INTO connection_log (at, event, detail) VALUES (${Date.now()}, ${event}, ${detail})`;
    if (Math.random() * PRUNE_ONE_IN < 1)
      this
        .#sql`DELETE FROM connection_log WHERE id <= (SELECT id FROM connection_log ORDER BY id DESC LIMIT 1 OFFSET ${LOG_LIMIT})`;
  }

  connectionLog(limit = 50): { at: number; event: string; detail: string | null }[] {
    return this.#sql<{ at: number; event: string; detail: string | null }>`
      SELECT at, event, detail FROM connection_log ORDER BY id DESC LIMIT ${limit}`;
  }

  /** Forgets everything (the node was deleted). */
  clear(): void {
    this.#cache.clear();
    this.#latestSampleAt = 0;
    this.#sql`DELETE FROM state`;
    this.#sql`DELETE FROM metrics`;
    this.#sql`DELETE FROM connection_log`;
  }
}
