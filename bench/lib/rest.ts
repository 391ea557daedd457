// 3. REST under load. The database is seeded directly in libSQL (./seed-rest.ts): N nodes and M
// executions of M/100 commands. Then autocannon on each endpoint, each run between two runs of
// GET /health in the same process (health, endpoint, health): req/s, p50/p99, ratio to /health.
// Also writes bench/query-plans.md (./query-plans.ts).
import { writeFile } from "node:fs/promises";
import autocannon from "autocannon";
import { API_KEY, startBenchStack } from "./bench-stack";
import { BENCH_DIR } from "./paths";
import { ProcSampler } from "./proc";
import { planQueries, queryPlans } from "./query-plans";
import { topSql } from "./roundtrip";
import { seed } from "./seed-rest";
import { ratio, round, sleep } from "./stats";
import { type BenchResult, fmt, type Mode, table } from "./types";

interface Run {
  label: string;
  cpu?: Record<string, number>;
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  requests: number;
}

let samplePids: Record<string, number[]> = {};

async function cannon(
  url: string,
  label: string,
  seconds: number,
  connections: number,
  init: { method?: string; body?: string } = {},
): Promise<Run> {
  const sampler = new ProcSampler({ ...samplePids, bench: process.pid }, 500);
  const result: any = await autocannon({
    url,
    connections,
    duration: seconds,
    timeout: 10,
    method: (init.method ?? "GET") as any,
    body: init.body,
    headers: {
      authorization: `Bearer ${API_KEY}`,
      ...(init.body ? { "content-type": "application/json" } : {}),
    },
  });
  const cpu = Object.fromEntries(
    Object.entries(sampler.stop()).map(([k, v]) => [k, Math.round(v.cpu_percent)]),
  );
  return {
    label,
    cpu,
    rps: round(result.requests.average, 1),
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    requests: result.requests.total,
  };
}

export async function rest(mode: Mode): Promise<BenchResult> {
  const nodes = mode.quick ? 1000 : 10_000;
  const executions = mode.quick ? 10_000 : 100_000;
  const seconds = mode.quick ? 3 : 10;
  const connections = 8;
  const stack = await startBenchStack({ capture: true });
  try {
    const t = performance.now();
    const seeded = await seed(stack, nodes, executions);
    const seedSeconds = round((performance.now() - t) / 1000, 1);
    mode.log(
      `  seeded ${seeded.nodes} nodes, ${seeded.commands} commands, ${seeded.executions} executions in ${seedSeconds} s`,
    );
    const nodeId = seeded.nodeIds[Math.floor(seeded.nodeIds.length / 2)];
    const commandId = seeded.commandIds[seeded.commandIds.length - 1];

    const plans = await queryPlans(stack, planQueries(nodeId, commandId));
    await writeFile(`${BENCH_DIR}/query-plans.md`, `${plans.markdown}\n`);
    mode.log(`  wrote bench/query-plans.md (${plans.problems.length} flagged plans)`);

    const endpoints: { label: string; path: string; init?: { method: string; body: string } }[] = [
      { label: "GET /api/v1/nodes?page_size=20", path: "/api/v1/nodes?page_size=20" },
      {
        label: "GET /api/v1/command_executions?status=completed&order_by=inserted_at&order_directions=desc",
        path: "/api/v1/command_executions?status=completed&order_by=inserted_at&order_directions=desc",
      },
      { label: "GET /api/v1/nodes/{id}", path: `/api/v1/nodes/${nodeId}` },
      {
        label: "POST /api/v1/commands (one node)",
        path: "/api/v1/commands",
        init: {
          method: "POST",
          body: JSON.stringify({ command_text: "true", targeting: { type: "nodes", node_ids: [nodeId] } }),
        },
      },
    ];
    const rows: { endpoint: Run; health: Run }[] = [];
    const pids = await stack.pids();
    samplePids = {
      workerd: pids.workerd,
      proxy: pids.proxy,
      libsql: pids.libsql,
      wrangler: pids.wrangler,
      runner: pids.runner,
    };
    const probeBefore = stack.probe();
    for (const e of endpoints) {
      mode.log(`  autocannon ${e.label} (${seconds} s, ${connections} connections) beside GET /health`);
      const h1 = await cannon(`${stack.url}/health`, "GET /health", seconds, connections);
      const run = await cannon(`${stack.url}${e.path}`, e.label, seconds, connections, e.init);
      const h2 = await cannon(`${stack.url}/health`, "GET /health", seconds, connections);
      const health: Run = {
        label: "GET /health (mean of the runs before and after)",
        rps: round((h1.rps + h2.rps) / 2, 1),
        p50: round((h1.p50 + h2.p50) / 2, 1),
        p99: round((h1.p99 + h2.p99) / 2, 1),
        non2xx: h1.non2xx + h2.non2xx,
        errors: h1.errors + h2.errors,
        requests: h1.requests + h2.requests,
      };
      rows.push({ endpoint: run, health });
      await sleep(500);
    }
    const probe = await stack.probeSettled();
    return {
      name: "rest",
      title: `3. REST (${seeded.nodes.toLocaleString("en")} nodes, ${seeded.executions.toLocaleString("en")} executions)`,
      markdown: [
        table(
          [
            "endpoint",
            "req/s",
            "p50 ms",
            "p99 ms",
            "/health req/s",
            "/health p50 ms",
            "req/s ÷ /health",
            "p50 × /health",
            "non-2xx",
            "errors",
            "CPU % workerd / proxy workerd / libSQL / wrangler / bench (endpoint run)",
          ],
          rows.map(({ endpoint: r, health: h }) => [
            r.label,
            fmt(r.rps, 0),
            r.p50,
            r.p99,
            fmt(h.rps, 0),
            h.p50,
            ratio(r.rps, h.rps),
            ratio(Math.max(r.p50, 0.5), Math.max(h.p50, 0.5)),
            r.non2xx,
            r.errors,
            r.cpu
              ? `${r.cpu.workerd} / ${r.cpu.proxy} / ${r.cpu.libsql} / ${r.cpu.wrangler} / ${r.cpu.bench}`
              : "—",
          ]),
        ),
        "",
        `autocannon ${seconds} s × ${connections} connections per run; each endpoint run sits between two /health runs. Seeded directly in libSQL in ${seedSeconds} s. Query plans: bench/query-plans.md${plans.problems.length ? ` (${plans.problems.length} flagged)` : " (nothing flagged)"}.`,
      ],
      goals: [],
      notes: plans.problems.map((p) => `query plan: ${p}`),
      data: {
        seeded: {
          nodes: seeded.nodes,
          commands: seeded.commands,
          executions: seeded.executions,
          seconds: seedSeconds,
        },
        runs: rows,
        plan_problems: plans.problems,
        probe_top: topSql(
          probe && probeBefore
            ? {
                by_sql: Object.fromEntries(
                  Object.entries(probe.by_sql).map(([k, v]) => [
                    k,
                    { n: v.n - (probeBefore.by_sql[k]?.n ?? 0), ms: v.ms - (probeBefore.by_sql[k]?.ms ?? 0) },
                  ]),
                ),
              }
            : probe,
          15,
        ),
      },
    };
  } finally {
    await stack.stop();
  }
}
