// 15. A 30-day metrics history query (issue 19). One swarm node heartbeats for a few seconds (its
// NodeSession creates its tiers), then the stack is stopped and 30 days of tiers are written into
// that Durable Object's SQLite file (raw samples every 15 s for 24 h, 1-minute buckets for 7 days,
// 5-minute and 1-hour buckets for 30 days, every host series, as the session's roll-ups would
// leave them), and the stack is started again on the same data. Then, sequential and alternating:
// `GET /api/v1/nodes/{id}/metrics/history?metrics=cpu,memory,disk&range=30d&resolution=auto`
// against `GET /health` (one `SELECT 1`). Goal: the query's p50 ≤ 2× /health's p50.
import { execFileSync } from "node:child_process";
import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { apiClient, clusterWithKey, must } from "./api";
import { API_KEY, startBenchStack } from "./bench-stack";
import { ratio, round, sleep, summarize } from "./stats";
import { Swarm } from "./swarm-client";
import { type BenchResult, type Goal, type Mode, table } from "./types";

const MIN = 60_000;
const SERIES = ["cpu", "memory", "disk", "load_1m", "load_5m", "load_15m"];

/** One bucket per series, a slow wave with a spike now and then (the max must survive). */
function bucketJson(i: number, count: number): string {
  const series: Record<string, { avg: number; min: number; max: number; count: number }> = {};
  for (const [k, name] of SERIES.entries()) {
    const avg = round(30 + 20 * Math.sin(i / 50 + k), 2);
    series[name] = { avg, min: round(avg - 5, 2), max: i % 97 === 0 ? 99 : round(avg + 5, 2), count };
  }
  return JSON.stringify(series);
}

function seedSql(now: number): string {
  const lines = ["BEGIN;"];
  const q = (s: string) => `'${s.replaceAll("'", "''")}'`;
  const tiers: [string, number, number][] = [
    ["1m", MIN, 7 * 24 * 60 * MIN],
    ["5m", 5 * MIN, 30 * 24 * 60 * MIN],
    ["1h", 60 * MIN, 30 * 24 * 60 * MIN],
  ];
  for (const [tier, size, span] of tiers) {
    const last = Math.floor(now / size) * size - size; // the still-open bucket is computed when read
    let i = 0;
    for (let start = last - span; start <= last - size; start += size, i++)
      lines.push(
        `INSERT OR REPLACE INTO metrics_buckets (tier, start, series) VALUES (${q(tier)}, ${start}, ${q(bucketJson(i, size / 15_000))});`,
      );
  }
  let i = 0;
  for (let at = now - 24 * 60 * MIN; at < now - 30_000; at += 15_000, i++) {
    const values: Record<string, number> = {};
    for (const [k, name] of SERIES.entries()) values[name] = round(30 + 20 * Math.sin(i / 50 + k), 2);
    lines.push(
      `INSERT OR REPLACE INTO metrics_raw (at, series) VALUES (${at}, ${q(JSON.stringify(values))});`,
    );
  }
  lines.push("COMMIT;");
  return lines.join("\n");
}

/** The SQLite file of the one NodeSession that has tiers (the only node of this stack). */
function nodeSessionFile(dataDir: string): string {
  const root = join(dataDir, "wrangler", "v3", "do");
  for (const dir of readdirSync(root).filter((d) => /NodeSession/i.test(d)))
    for (const f of readdirSync(join(root, dir)).filter(
      (f) => f.endsWith(".sqlite") && f !== "metadata.sqlite",
    )) {
      const path = join(root, dir, f);
      const tables = execFileSync("sqlite3", [path, ".tables"], { encoding: "utf8" });
      if (/metrics_raw/.test(tables)) return path;
    }
  throw new Error(`no NodeSession SQLite file with metrics_raw under ${root}`);
}

async function timed(url: string, auth: boolean): Promise<number> {
  const t0 = performance.now();
  const res = await fetch(url, { headers: auth ? { authorization: `Bearer ${API_KEY}` } : {} });
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`${url}: HTTP ${res.status}`);
  return performance.now() - t0;
}

export async function historyQuery(mode: Mode): Promise<BenchResult> {
  const count = mode.quick ? 40 : 200;
  const stack = await startBenchStack();
  const api = apiClient(() => stack.url);
  const notes: string[] = [];
  const data: Record<string, any> = { count };
  let error: string | undefined;
  try {
    const key = await clusterWithKey(api, "history", "100.75.0.0/24");
    const swarm = await Swarm.start();
    let nodeId: string;
    try {
      await swarm.enroll(key, 1, 1, 120_000);
      nodeId = (await swarm.identities())[0].node_id;
      await swarm.connect(1, { heartbeatSeconds: 1, timeoutMs: 120_000 });
      await sleep(5000);
    } finally {
      await swarm.stop().catch(() => {});
    }
    await stack.stop(true);
    const file = nodeSessionFile(stack.dataDir);
    const sqlFile = join(stack.dataDir, "history-seed.sql");
    writeFileSync(sqlFile, seedSql(Date.now()));
    execFileSync("sqlite3", [file, `.read ${sqlFile}`]);
    const rows = execFileSync("sqlite3", [file, "SELECT tier, count(*) FROM metrics_buckets GROUP BY tier"], {
      encoding: "utf8",
    });
    const raw = execFileSync("sqlite3", [file, "SELECT count(*) FROM metrics_raw"], {
      encoding: "utf8",
    }).trim();
    data.seeded = `${rows.trim().replaceAll("\n", ", ")}, raw|${raw}`;
    await stack.restart();
    const history = `${stack.url}/api/v1/nodes/${nodeId}/metrics/history?metrics=cpu,memory,disk&range=30d&resolution=auto`;
    const body = await must(api("GET", history.slice(stack.url.length)), "history");
    data.resolution = body.resolution;
    data.points = body.points.length;
    data.response_bytes = JSON.stringify(body).length;
    if (body.points.length < 100) notes.push(`only ${body.points.length} points: the seed did not land?`);
    // Warm both paths, then alternate so load changes on the shared machine hit both alike.
    for (let i = 0; i < 10; i++) {
      await timed(`${stack.url}/health`, false);
      await timed(history, true);
    }
    const health: number[] = [];
    const query: number[] = [];
    for (let i = 0; i < count; i++) {
      health.push(await timed(`${stack.url}/health`, false));
      query.push(await timed(history, true));
    }
    data.health = summarize(health);
    data.history = summarize(query);
    data.ratio_p50 = ratio(data.history.p50, data.health.p50);
  } catch (e) {
    error = String((e as Error).message ?? e);
  } finally {
    await stack.stop();
  }
  const goals: Goal[] = [
    {
      what: "30-day history at resolution=auto, p50 / `/health` p50",
      goal: "≤ 2",
      value: data.ratio_p50 !== undefined ? String(data.ratio_p50) : "not measured",
      met: data.ratio_p50 !== undefined ? data.ratio_p50 <= 2 : false,
    },
  ];
  const row = (name: string, s: any) => [name, s?.n ?? "—", s?.p50 ?? "—", s?.p90 ?? "—", s?.p99 ?? "—"];
  return {
    name: "history_query",
    title: "15. 30-day metrics history query (resolution=auto)",
    markdown: [
      table(
        ["request", "n", "p50 ms", "p90 ms", "p99 ms"],
        [row("GET /health", data.health), row("history 30d auto", data.history)],
      ),
      "",
      `Seeded tiers (tier|rows): ${data.seeded ?? "—"}. Answer: resolution ${data.resolution ?? "—"}, ${data.points ?? "—"} points, ${data.response_bytes ?? "—"} bytes of JSON. p50 ratio: ${data.ratio_p50 ?? "—"}.`,
    ],
    goals,
    notes,
    data,
    error,
  };
}
