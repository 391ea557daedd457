import type { AgentMetrics, HostMetrics } from "../../src/protocol/frames";

/** One stored heartbeat sample. */
export interface MetricsSample {
  at: number;
  host: HostMetrics;
  agent: AgentMetrics;
  checks: { name: string; ok: boolean; message?: string }[];
}

/** Samples kept per node (24 h at the default 15 s heartbeat would be 5,760; a bounded recent window is enough here). */
export const METRICS_HISTORY_LIMIT = 720;
const LOG_LIMIT = 200;

type Sql = <T = Record<string, unknown>>(
  strings: TemplateStringsArray,
  ...values: (string | number | boolean | null)[]
) => T[];

/**
 * The node's own storage inside its Durable Object (SQLite): small key/value
 * state, the metrics history and a connection log, each bounded.
 */
export class SessionStore {
  constructor(private readonly sql: Sql) {
    sql`CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL)`;
    sql`CREATE TABLE IF NOT EXISTS metrics (at INTEGER PRIMARY KEY, host TEXT NOT NULL, agent TEXT NOT NULL, checks TEXT NOT NULL)`;
    sql`CREATE TABLE IF NOT EXISTS connection_log (id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, event TEXT NOT NULL, detail TEXT)`;
  }

  get<T>(key: string): T | undefined {
    const [row] = this.sql<{ value: string }>`SELECT value FROM state WHERE key = ${key}`;
    return row ? (JSON.parse(row.value) as T) : undefined;
  }

  set(key: string, value: unknown): void {
    this.sql`INSERT INTO state (key, value) VALUES (${key}, ${JSON.stringify(value)})
             ON CONFLICT(key) DO UPDATE SET value = excluded.value`;
  }

  addSample(sample: MetricsSample): void {
    this.sql`INSERT OR REPLACE INTO metrics (at, host, agent, checks)
             VALUES (${sample.at}, ${JSON.stringify(sample.host)}, ${JSON.stringify(sample.agent)}, ${JSON.stringify(sample.checks)})`;
    this
      .sql`DELETE FROM metrics WHERE at <= (SELECT at FROM metrics ORDER BY at DESC LIMIT 1 OFFSET ${METRICS_HISTORY_LIMIT})`;
  }

  latestSample(): MetricsSample | null {
    return this.samples(1)[0] ?? null;
  }

  /** Newest first. */
  samples(limit: number): MetricsSample[] {
    return this.sql<{ at: number; host: string; agent: string; checks: string }>`
      SELECT at, host, agent, checks FROM metrics ORDER BY at DESC LIMIT ${limit}`.map((r) => ({
      at: r.at,
      host: JSON.parse(r.host),
      agent: JSON.parse(r.agent),
      checks: JSON.parse(r.checks),
    }));
  }

  sampleCount(): number {
    return this.sql<{ n: number }>`SELECT count(*) AS n FROM metrics`[0].n;
  }

  log(event: string, detail: string | null = null): void {
    this.sql`INSERT INTO connection_log (at, event, detail) VALUES (${Date.now()}, ${event}, ${detail})`;
    this
      .sql`DELETE FROM connection_log WHERE id <= (SELECT id FROM connection_log ORDER BY id DESC LIMIT 1 OFFSET ${LOG_LIMIT})`;
  }

  connectionLog(limit = 50): { at: number; event: string; detail: string | null }[] {
    return this.sql<{ at: number; event: string; detail: string | null }>`
      SELECT at, event, detail FROM connection_log ORDER BY id DESC LIMIT ${limit}`;
  }

  /** Forgets everything (the node was deleted). */
  clear(): void {
    this.sql`DELETE FROM state`;
    this.sql`DELETE FROM metrics`;
    this.sql`DELETE FROM connection_log`;
  }
}
