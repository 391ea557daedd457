// Preloaded into the libSQL dev server by the benchmarks (NODE_OPTIONS="--import <this file>", which
// every process of the stack inherits; it does nothing outside scripts/libsql-server/main.mjs).
// It wraps the `libsql` engine's statements to count what the server executes — statements, writes
// (INSERT/UPDATE/DELETE/REPLACE), rows changed, time per SQL text — and, with BENCH_LIBSQL_CAPTURE=1,
// keeps the recent statements with their arguments (for EXPLAIN QUERY PLAN of the exact API queries).
// The stats go to $BENCH_LIBSQL_PROBE (JSON, rewritten at most every 200 ms). Measurement only: the
// server's behaviour is unchanged.
import { renameSync, writeFileSync } from "node:fs";
import http from "node:http";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const target = process.env.BENCH_LIBSQL_PROBE;
const entry = process.argv[1] ?? "";
if (target && /scripts[/\\]libsql-server[/\\]main\.mjs$/.test(entry)) install(target, dirname(entry));

function install(file, serverDir) {
  const require = createRequire(join(serverDir, "databases.mjs"));
  const Database = require("libsql");
  const capture = process.env.BENCH_LIBSQL_CAPTURE === "1";
  const stats = {
    pid: process.pid,
    statements: 0,
    writes: 0,
    writes_changed: 0,
    reads: 0,
    exec: 0,
    busy_ms: 0,
    by_kind: {},
    by_sql: {},
    http_requests: 0,
    http_ms: 0,
    captured: [],
    seq: 0,
    updated_at: 0,
  };
  let dirty = true;
  const WRITE_RE = /^\s*(?:with\b[\s\S]*?\)\s*)?(insert|update|delete|replace)\b/i;

  function kindOf(sql) {
    const m = WRITE_RE.exec(sql);
    if (!m) return null;
    const verb = m[1].toUpperCase();
    const table =
      /^\s*(?:with\b[\s\S]*?\)\s*)?(?:insert(?:\s+or\s+\w+)?\s+into|replace\s+into|update(?:\s+or\s+\w+)?|delete\s+from)\s+["`]?(\w+)/i.exec(
        sql,
      )?.[1] ?? "?";
    return `${verb} ${table}`;
  }

  function record(sql, args, ms, changed) {
    stats.statements++;
    stats.busy_ms += ms;
    const kind = kindOf(sql);
    if (kind) {
      stats.writes++;
      if (changed) stats.writes_changed++;
      stats.by_kind[kind] = (stats.by_kind[kind] ?? 0) + 1;
    } else stats.reads++;
    const key = sql.length > 400 ? `${sql.slice(0, 400)}…` : sql;
    stats.by_sql[key] ??= { n: 0, ms: 0 };
    const agg = stats.by_sql[key];
    agg.n++;
    agg.ms += ms;
    stats.seq++;
    if (capture) {
      stats.captured.push({ seq: stats.seq, sql, args: jsonable(args), ms });
      if (stats.captured.length > 400) stats.captured.splice(0, stats.captured.length - 400);
    }
    dirty = true;
  }

  function jsonable(args) {
    const list = args.length === 1 && Array.isArray(args[0]) ? args[0] : args;
    return list.map((v) => (typeof v === "bigint" ? Number(v) : v));
  }

  const prepare = Database.prototype.prepare;
  Database.prototype.prepare = function (sql, ...rest) {
    const stmt = prepare.call(this, sql, ...rest);
    if (typeof sql !== "string" || !stmt) return stmt;
    const run = stmt.run;
    stmt.run = function (...args) {
      const t = performance.now();
      const info = run.apply(this, args);
      record(sql, args, performance.now() - t, Number(info?.changes ?? 0) > 0);
      return info;
    };
    const iterate = stmt.iterate;
    stmt.iterate = function* (...args) {
      const t = performance.now();
      let rows = 0;
      try {
        for (const row of iterate.apply(this, args)) {
          rows++;
          yield row;
        }
      } finally {
        record(sql, args, performance.now() - t, rows > 0);
      }
    };
    return stmt;
  };
  const exec = Database.prototype.exec;
  Database.prototype.exec = function (sql) {
    stats.exec++;
    dirty = true;
    return exec.call(this, sql);
  };

  // Hrana requests (one per pipeline POST from workerd) and their time in the server.
  const createServer = http.createServer;
  http.createServer = function (...args) {
    const i = args.findIndex((a) => typeof a === "function");
    if (i >= 0) {
      const listener = args[i];
      args[i] = function (req, res) {
        const t = performance.now();
        res.once("finish", () => {
          stats.http_requests++;
          stats.http_ms += performance.now() - t;
          dirty = true;
        });
        return listener.call(this, req, res);
      };
    }
    return createServer.apply(this, args);
  };

  const flush = () => {
    if (!dirty) return;
    dirty = false;
    stats.updated_at = Date.now();
    try {
      writeFileSync(`${file}.tmp`, JSON.stringify(stats));
      renameSync(`${file}.tmp`, file);
    } catch {
      // the bench went away; nothing to report to
    }
  };
  setInterval(flush, 200).unref();
  process.on("exit", flush);
}
