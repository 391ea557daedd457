// What a woken session's storage work adds to its wake on the local runtime (issue 23): N objects
// with a NodeSession-like state table (8 keys) and a metrics table; three times, after workerd evicted
// them (idle > 10 s), a Worker calls each once, 32 at a time, and each call reads or writes its
// storage one way (one variant per process, as in actor-wake.mjs):
//   node bench/exp/wake-reads.mjs [N]
import { execFileSync } from "node:child_process";
import { startWorkerdScript } from "./workerd-script.mjs";

const N = Number(process.argv[2] ?? 1000);
const EVICTED_AFTER_MS = 12_000;
const KEYS = [
  "presence",
  "alert_rules",
  "alert_states",
  "updates",
  "latest_metrics",
  "orchestration",
  "capabilities",
  "config",
];

const WORKER = `
import { DurableObject } from "cloudflare:workers";
const KEYS = ${JSON.stringify(KEYS)};
export class Session extends DurableObject {
  seed() {
    const sql = this.ctx.storage.sql;
    sql.exec("CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
    sql.exec("CREATE TABLE IF NOT EXISTS metrics (at INTEGER PRIMARY KEY, host TEXT NOT NULL, agent TEXT NOT NULL, checks TEXT NOT NULL)");
    sql.exec("CREATE TABLE IF NOT EXISTS metrics_raw (at INTEGER PRIMARY KEY, series TEXT NOT NULL)");
    sql.exec("CREATE TABLE IF NOT EXISTS connection_log (id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, event TEXT NOT NULL, detail TEXT)");
    for (const k of KEYS) sql.exec("INSERT OR REPLACE INTO state VALUES (?, ?)", k, JSON.stringify({ k, pad: "x".repeat(200) }));
    for (let i = 0; i < 50; i++) sql.exec("INSERT OR REPLACE INTO metrics VALUES (?, ?, ?, ?)", 1000 + i, "{}", "{}", "[]");
    return 1;
  }
  call(mode) {
    const sql = this.ctx.storage.sql;
    if (mode === "none") return 0;
    if (mode === "select1") return sql.exec("SELECT 1").toArray().length;
    if (mode === "each") {
      let n = 0;
      for (const k of KEYS.slice(0, 6)) n += sql.exec("SELECT value FROM state WHERE key = ?", k).toArray().length;
      n += sql.exec("SELECT max(at) AS at FROM metrics").toArray().length;
      return n;
    }
    if (mode === "one") return sql.exec("SELECT key, value FROM state WHERE key IN (?, ?, ?, ?, ?, ?)", ...KEYS.slice(0, 6)).toArray().length;
    if (mode === "write") {
      sql.exec("INSERT OR REPLACE INTO state VALUES ('presence', ?)", String(Date.now()));
      return 1;
    }
    throw new Error(mode);
  }
}
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const mode = url.searchParams.get("mode");
    const n = Number(url.searchParams.get("n"));
    let next = 0;
    const t = Date.now();
    await Promise.all(Array.from({ length: 32 }, async () => {
      while (next < n) {
        const s = env.SESSION.get(env.SESSION.idFromName("node-" + next++));
        await (mode === "seed" ? s.seed() : s.call(mode));
      }
    }));
    return new Response(String(Date.now() - t));
  },
};`;

const MODES = {
  none: "no storage access",
  select1: "SELECT 1 (no table)",
  each: "6 state reads by key + max(at) of metrics, one statement each",
  one: "the 6 state keys in one statement",
  write: "one state row written",
};

if (process.env.WAKE_READS_MODE) {
  const mode = process.env.WAKE_READS_MODE;
  const worker = await startWorkerdScript({
    name: "wake-reads",
    script: WORKER,
    classes: { SESSION: "Session" },
  });
  try {
    const round = async (m) => Number(await (await fetch(`${worker.url}?mode=${m}&n=${N}`)).text());
    await round("seed");
    // Three evictions and wakes; the least of each is reported (the machine is shared).
    const woken = [];
    const resident = [];
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setTimeout(r, EVICTED_AFTER_MS));
      woken.push(await round(mode));
      resident.push(await round(mode));
    }
    console.log(JSON.stringify({ woken: Math.min(...woken), resident: Math.min(...resident), all: woken }));
  } finally {
    await worker.stop();
  }
} else {
  console.log(`${N} woken objects, one call each, 32 at a time (ms for all; per call in brackets)\n`);
  console.log("| each call | woken (least of 3) | the 3 wakes | resident |");
  console.log("| --- | --- | --- | --- |");
  for (const [mode, label] of Object.entries(MODES)) {
    const out = execFileSync(process.execPath, [new URL(import.meta.url).pathname], {
      env: { ...process.env, WAKE_READS_MODE: mode },
      encoding: "utf8",
    });
    const r = JSON.parse(out.trim().split("\n").at(-1));
    const per = (ms) => `${ms} (${(ms / N).toFixed(2)})`;
    console.log(`| ${label} | ${per(r.woken)} | ${r.all.join(", ")} | ${per(r.resident)} |`);
  }
}
