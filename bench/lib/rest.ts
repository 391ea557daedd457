// 3. REST under load. The database is seeded directly through the libSQL dev server (@libsql/client
// batch inserts into the tables of src/db/schema.ts, bypassing the API): N nodes (secrets copied
// from one node enrolled through the API, so every row decrypts) and M executions of M/100
// commands. Then autocannon on each endpoint, each run between two runs of GET /health in the same
// process (health, endpoint, health): req/s, p50/p99, ratio to /health. Also writes
// bench/query-plans.md: EXPLAIN QUERY PLAN of the exact SQL the API ran (captured by the probe)
// for the default sorts and common filters.
import { randomUUID } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { createClient, type InStatement } from "@libsql/client";
import autocannon from "autocannon";
import { decodeKeyBlob } from "../../src/enrollment/key-blob";
import { apiClient, clusterWithKey } from "./api";
import { API_KEY, type BenchStack, startBenchStack } from "./bench-stack";
import { BENCH_DIR } from "./paths";
import { ProcSampler } from "./proc";
import { topSql } from "./roundtrip";
import { ratio, round, sleep } from "./stats";
import { type BenchResult, fmt, type Mode, table } from "./types";

const CLUSTERS = 20;

function ipOf(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

async function insertRows(
  client: ReturnType<typeof createClient>,
  table: string,
  columns: string[],
  rows: unknown[][],
  perStatement = 200,
) {
  const statements: InStatement[] = [];
  for (let i = 0; i < rows.length; i += perStatement) {
    const chunk = rows.slice(i, i + perStatement);
    const placeholders = chunk.map(() => `(${columns.map(() => "?").join(",")})`).join(",");
    statements.push({
      sql: `INSERT INTO ${table} (${columns.join(",")}) VALUES ${placeholders}`,
      args: chunk.flat() as any,
    });
  }
  for (let i = 0; i < statements.length; i += 25) await client.batch(statements.slice(i, i + 25), "write");
}

export async function seed(stack: BenchStack, nodeCount: number, executionCount: number) {
  const api = apiClient(() => stack.url);
  const key = await clusterWithKey(api, "rest", "100.96.0.0/16");
  const blob = decodeKeyBlob(key)!;
  // One real node through the API: its ciphertexts (ENCRYPTION_KEY of this stack) are reused.
  const res = await fetch(`${stack.url}/agent/v1/enroll`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      key: blob.key,
      node_id: randomUUID(),
      id_type: "random",
      hostname: "bench-template",
      platform: "linux",
      version: "0.1.0",
    }),
  });
  if (res.status !== 201) throw new Error(`enrol template node: HTTP ${res.status} ${await res.text()}`);
  const client = createClient({ url: stack.libsqlUrl });
  try {
    const template = (await client.execute("SELECT * FROM nodes LIMIT 1")).rows[0] as Record<string, any>;
    const nodeColumns = Object.keys(template);
    const now = Date.now();
    // CLUSTERS clusters: the API-created one ("rest", 100.96.0.0/16) and copies of it (10.k.0.0/16).
    const cluster = (await client.execute("SELECT * FROM clusters LIMIT 1")).rows[0] as Record<string, any>;
    const clusterColumns = Object.keys(cluster);
    const clusters = [{ id: cluster.id as string, start: Number(cluster.ipv4_start) }];
    const clusterRows: unknown[][] = [];
    for (let k = 1; k < CLUSTERS; k++) {
      const start = (10 << 24) + (k << 16);
      const row: Record<string, unknown> = {
        ...cluster,
        id: randomUUID(),
        name: `rest-${k}`,
        ipv4_range: `10.${k}.0.0/16`,
        ipv4_start: start,
        ipv4_end: start + 65535,
        network_name: `rest-${k}`,
        vpn_domain: `cluster-rest-${k}.nm.internal`,
      };
      clusters.push({ id: row.id as string, start });
      clusterRows.push(clusterColumns.map((c) => row[c] ?? null));
    }
    await insertRows(client, "clusters", clusterColumns, clusterRows);
    const statuses = ["healthy", "healthy", "healthy", "unhealthy", "unreachable"];
    const versions = ["0.1.0", "0.1.0", "0.0.9", "1.0.0"];
    const nodeIds: string[] = [template.id];
    const nodeRows: unknown[][] = [];
    for (let i = 1; i < nodeCount; i++) {
      const id = randomUUID();
      nodeIds.push(id);
      const at = now - (nodeCount - i) * 60_000;
      const row: Record<string, unknown> = {
        ...template,
        id,
        cluster_id: clusters[i % CLUSTERS].id,
        node_name: `node-${id.slice(0, 8)}`,
        status: statuses[i % statuses.length],
        version: versions[i % versions.length],
        hostname: `host-${i}`,
        ipv4_address: ipOf(clusters[i % CLUSTERS].start + 2 + Math.floor(i / CLUSTERS)),
        api_token_hash: randomUUID().replaceAll("-", "") + randomUUID().replaceAll("-", ""),
        last_seen_at: now - (i % 3600) * 1000,
        inserted_at: at,
        updated_at: at,
      };
      nodeRows.push(nodeColumns.map((c) => row[c] ?? null));
    }
    await insertRows(client, "nodes", nodeColumns, nodeRows, 100);

    const commandCount = Math.max(1, Math.round(executionCount / 100));
    const perCommand = Math.round(executionCount / commandCount);
    const commandRows: unknown[][] = [];
    const execRows: unknown[][] = [];
    const commandIds: string[] = [];
    for (let c = 0; c < commandCount; c++) {
      const id = randomUUID();
      commandIds.push(id);
      const at = now - (commandCount - c) * 5 * 60_000;
      const targets = Array.from(
        { length: perCommand },
        (_, k) => nodeIds[(c * 37 + k * 101) % nodeIds.length],
      );
      const unique = [...new Set(targets)];
      commandRows.push([
        id,
        "uptime",
        JSON.stringify({ type: "nodes", node_ids: unique }),
        30_000,
        null,
        at,
        at,
      ]);
      for (const [k, nodeId] of unique.entries()) {
        const r = (c * 131 + k * 7) % 100;
        const status = r < 90 ? "completed" : r < 95 ? "expired" : "cancelled";
        const done = at + 500 + k;
        execRows.push([
          randomUUID(),
          id,
          nodeId,
          null,
          0,
          "uptime",
          30_000,
          null,
          status,
          status === "completed" ? (r < 85 ? 0 : 1) : status === "cancelled" ? 143 : null,
          status === "completed" ? " 12:00:00 up 1 day,  load average: 0.00, 0.01, 0.05\n" : null,
          at + 50,
          status === "completed" ? done : null,
          status === "cancelled" ? done : null,
          null,
          at,
          done,
        ]);
      }
    }
    await insertRows(
      client,
      "commands",
      ["id", "command_text", "targeting", "timeout", "expired_at", "inserted_at", "updated_at"],
      commandRows,
    );
    await insertRows(
      client,
      "command_executions",
      [
        "id",
        "command_id",
        "node_id",
        "cluster_name",
        "target_all",
        "command_text",
        "timeout",
        "expired_at",
        "status",
        "exit_code",
        "output",
        "sent_at",
        "completed_at",
        "cancelled_at",
        "cancel_requested_at",
        "inserted_at",
        "updated_at",
      ],
      execRows,
    );
    await client.execute("ANALYZE");
    const counts = await client.batch(
      [
        "SELECT count(*) AS n FROM nodes",
        "SELECT count(*) AS n FROM command_executions",
        "SELECT count(*) AS n FROM commands",
      ],
      "read",
    );
    return {
      nodeIds,
      commandIds,
      nodes: Number(counts[0].rows[0].n),
      executions: Number(counts[1].rows[0].n),
      commands: Number(counts[2].rows[0].n),
    };
  } finally {
    client.close();
  }
}

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

/** A scan of a big table without an index (a scan USING an index walks it in order, which is fine). */
const BIG_SCAN = /^SCAN (nodes|command_executions|commands|events|webhook_deliveries)(?! USING)/;

/**
 * The default sorts and common filters whose plans must use an index (checked by
 * test/e2e/query-plans.test.ts), then ones kept for the record in bench/query-plans.md.
 */
export function planQueries(nodeId: string, commandId: string): { indexed: string[]; recorded: string[] } {
  return {
    indexed: [
      "/api/v1/nodes?page_size=20",
      "/api/v1/nodes?status=healthy",
      "/api/v1/nodes?cluster_name=rest",
      "/api/v1/nodes?version=0.0.*",
      "/api/v1/nodes?page=200&page_size=20",
      `/api/v1/nodes/${nodeId}`,
      "/api/v1/command_executions",
      "/api/v1/command_executions?status=completed&order_by=inserted_at&order_directions=desc",
      `/api/v1/command_executions?command_id=${commandId}`,
      `/api/v1/command_executions?node_id=${nodeId}`,
      `/api/v1/command_executions?node_id=${nodeId}&status=completed`,
      "/api/v1/command_executions?exit_code__gte=1",
      "/api/v1/command_executions?order_by=completed_at&order_directions=desc",
      "/api/v1/commands",
      "/api/v1/commands?order_by=inserted_at&order_directions=desc",
      `/api/v1/commands/${commandId}/summary`,
      "/api/v1/clusters",
    ],
    // A range on one column ordered by another (no single index serves both: SQLite picks by its
    // statistics), a filter through a join, a sort without a dedicated index: recorded only.
    recorded: [
      "/api/v1/nodes?last_seen_at__gte=2020-01-01",
      "/api/v1/nodes?order_by=last_seen_at&order_directions=desc",
      "/api/v1/command_executions?cluster_name=rest",
    ],
  };
}

/** Runs the URLs once each, captures the SELECTs the API sent to libSQL, and EXPLAINs them. */
export async function queryPlans(
  stack: BenchStack,
  queries: { indexed: string[]; recorded: string[] },
): Promise<{ markdown: string; problems: string[]; indexedProblems: string[] }> {
  const urls = [...queries.indexed, ...queries.recorded];
  const client = createClient({ url: stack.libsqlUrl });
  const api = apiClient(() => stack.url);
  const out: string[] = [
    "# Query plans",
    "",
    "Generated by `npm run bench -- --only rest` (bench/lib/rest.ts): each request below was sent to a",
    "stack seeded with the REST benchmark's data; the libSQL probe captured the SQL the API executed,",
    "and each SELECT was run again as `EXPLAIN QUERY PLAN` with the same arguments. ⚠ marks a full",
    "table scan or a temporary B-tree for ORDER BY.",
    "",
  ];
  const problems: string[] = [];
  const indexedProblems: string[] = [];
  try {
    for (const url of urls) {
      const before = (await stack.probeSettled())?.seq ?? 0;
      const t = performance.now();
      const r = await api("GET", url);
      const ms = round(performance.now() - t, 1);
      const probe = await stack.probeSettled();
      const captured = (probe?.captured ?? []).filter((c) => c.seq > before && /^\s*select/i.test(c.sql));
      out.push(`## \`GET ${url}\``, "", `HTTP ${r.status}, ${ms} ms end to end.`, "");
      for (const c of captured) {
        const plan = await client.execute({ sql: `EXPLAIN QUERY PLAN ${c.sql}`, args: c.args as any });
        const lines = plan.rows.map((row: any) => String(row.detail));
        const bad = lines.filter((l) => BIG_SCAN.test(l) || /USE TEMP B-TREE FOR ORDER BY/.test(l));
        const flag = bad.length ? "⚠ " : "";
        out.push(
          `${flag}SQL (${round(c.ms, 2)} ms in libSQL):`,
          "",
          "```sql",
          c.sql.trim(),
          "```",
          "",
          "```",
          ...lines,
          "```",
          "",
        );
        if (bad.length) problems.push(`GET ${url}: ${bad.join("; ")}`);
        if (bad.length && queries.indexed.includes(url))
          indexedProblems.push(`GET ${url}: ${bad.join("; ")} in ${c.sql.trim()}`);
      }
    }
  } finally {
    client.close();
  }
  return { markdown: out.join("\n"), problems, indexedProblems };
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
