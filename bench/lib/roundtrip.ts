// 1. Round trip. One node. Floor: the application-level ping/pong through the node's Durable Object.
// Measured: POST /api/v1/commands (that node, `true`) → GET the execution id → its SSE stream's
// `end` event with status completed. With the swarm's in-process executor on the node (no shell) and
// with the real agent process (journal + `sh -c true`), so the agent's own share shows; then the real
// agent again with the API requests sent past wrangler's proxy workerd, so the proxy's share shows.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { copyBundle, runAgentToExit, startAgent, tempDir } from "../../test/support/agent-process";
import { type Api, apiClient, clusterWithKey, must, sseEnd } from "./api";
import { API_KEY, type BenchStack, startBenchStack } from "./bench-stack";
import { profileMarkdown, startProfile } from "./inspector";
import { type ProcFigures, ProcSampler } from "./proc";
import { ratio, round, type Summary, sleep, summarize } from "./stats";
import { Swarm } from "./swarm-client";
import { type BenchResult, fmt, type Mode, table } from "./types";

interface Sample {
  total: number;
  post: number;
  list: number;
  stream: number;
}

async function oneCommand(api: Api, base: string, nodeId: string): Promise<Sample> {
  const t0 = performance.now();
  const cmd = await must(
    api("POST", "/api/v1/commands", {
      command_text: "true",
      targeting: { type: "nodes", node_ids: [nodeId] },
    }),
    "POST /commands",
  );
  const t1 = performance.now();
  const list = await must(api("GET", `/api/v1/command_executions?command_id=${cmd.id}`), "list executions");
  const exec = list[0];
  if (!exec) throw new Error(`command ${cmd.id} has no execution`);
  const t2 = performance.now();
  const end = await sseEnd(`${base}/api/v1/command_executions/${exec.id}/stream`, 30_000);
  const t3 = performance.now();
  if (end.status !== "completed" || end.exit_code !== 0)
    throw new Error(`execution ${exec.id} ended ${JSON.stringify(end)}`);
  return { total: t3 - t0, post: t1 - t0, list: t2 - t1, stream: t3 - t2 };
}

/** Sequential latency of one request (ms samples; NaN where the status is not the expected one). */
async function requestSeries(url: string, count: number, expected = 200): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count + 5; i++) {
    const t = performance.now();
    const res = await fetch(url, { headers: { authorization: `Bearer ${API_KEY}` } });
    await res.arrayBuffer();
    if (i >= 5) out.push(res.status === expected ? performance.now() - t : Number.NaN);
  }
  return out;
}

async function commandSeries(
  api: Api,
  base: string,
  nodeId: string,
  count: number,
  warmup: number,
  budgetMs: number,
  log: (m: string) => void,
): Promise<{ samples: Sample[]; failures: string[] }> {
  const samples: Sample[] = [];
  const failures: string[] = [];
  const deadline = Date.now() + budgetMs;
  for (let i = 0; i < warmup + count && Date.now() < deadline; i++) {
    try {
      const s = await oneCommand(api, base, nodeId);
      if (i >= warmup) samples.push(s);
    } catch (error) {
      failures.push((error as Error).message);
      if (failures.length > 10) break;
    }
    if (i > 0 && i % 50 === 0) log(`  ${i}/${warmup + count} commands`);
  }
  return { samples, failures };
}

export async function roundtrip(mode: Mode): Promise<BenchResult> {
  const commands = mode.quick ? 30 : 200;
  const pings = mode.quick ? 100 : 500;
  const stack = await startBenchStack();
  const api = apiClient(() => stack.url);
  const work = await tempDir("outpost-bench-rt-");
  let swarm: Swarm | undefined;
  try {
    const key = await clusterWithKey(api, "rt", "100.80.0.0/24");
    // The real agent enrols once; the swarm borrows its identity for the floor and the in-process run.
    const bundle = await copyBundle(work);
    const stateDir = join(work, "agent");
    const enrolled = await runAgentToExit({
      bundle,
      stateDir,
      args: ["enroll"],
      env: { ENROLLMENT_KEY: key, OUTPOST_ID_TYPE: "random", OUTPOST_LOG_LEVEL: "warn" },
    });
    if (enrolled.code !== 0) throw new Error(`agent enroll exited ${enrolled.code}: ${enrolled.output}`);
    const identity = JSON.parse(await readFile(join(stateDir, "identity.json"), "utf8"));
    const nodeId: string = identity.node_id;

    swarm = await Swarm.start();
    await swarm.adopt([{ node_id: nodeId, api_token: identity.api_token, server: identity.server }]);
    const c = await swarm.connect(1, { timeoutMs: 30_000 });
    if (c.ready !== 1) throw new Error("swarm connection not ready");
    mode.log(`  floor: ${pings} pings through the node's DO`);
    await swarm.pingSequential(20);
    const floor = summarize((await swarm.pingSequential(pings, 5000, 2)).rtts);
    mode.log(`  floor p50 ${floor.p50} ms; in-process executor: ${commands} commands`);
    const pids = await stack.pids();
    const groups = { ...pids, bench: [process.pid] };
    const p0 = await stack.probeSettled();
    let sampler = new ProcSampler({ ...groups, client: swarm.pid }, 500);
    const stopProfile = mode.profile
      ? await startProfile(pids.workerd[0], `${mode.filePrefix}-roundtrip`, `${stack.url}/health`).catch(
          () => undefined,
        )
      : undefined;
    const inproc = await commandSeries(api, stack.url, nodeId, commands, 10, 10 * 60_000, mode.log);
    const inprocCpu = cpuPerCommand(sampler.stop(), inproc.samples.length + 10);
    const profiles = stopProfile ? await stopProfile() : [];
    const p1 = await stack.probeSettled();
    const inprocDb = perCommand(p0, p1, inproc.samples.length + 10);
    const floorAfter = summarize((await swarm.pingSequential(Math.round(pings / 2), 5000, 2)).rtts);
    await swarm.stop();
    swarm = undefined;

    mode.log(`  real agent (Node 20, sh -c true): ${commands} commands`);
    const agent = startAgent({
      bundle,
      stateDir,
      env: { OUTPOST_LOG_LEVEL: "warn", OUTPOST_HEARTBEAT_INTERVAL: "15" },
    });
    // The agent logs at warn: wait until the node is healthy again instead of for a log line.
    const deadline = Date.now() + 30_000;
    for (;;) {
      const node = await api("GET", `/api/v1/nodes/${nodeId}`);
      if (node.json?.data?.status === "healthy") break;
      if (Date.now() > deadline) throw new Error(`agent did not connect: ${agent.output().slice(-2000)}`);
      await sleep(200);
    }
    await sleep(1000);
    const p2 = await stack.probeSettled();
    sampler = new ProcSampler({ ...groups, client: agent.pid }, 500);
    const real = await commandSeries(api, stack.url, nodeId, commands, 10, 10 * 60_000, mode.log);
    const realCpu = cpuPerCommand(sampler.stop(), real.samples.length + 10);
    const p3 = await stack.probeSettled();
    const realDb = perCommand(p2, p3, real.samples.length + 10);
    // Diagnostic: the same commands sent to the Worker's workerd directly, without wrangler's proxy
    // hop (the agent's WebSocket still goes through it, as for the floor).
    const workerUrl = await stack.workerUrl();
    mode.log(`  real agent, API without wrangler's proxy (${workerUrl}): ${commands} commands`);
    const direct = await commandSeries(
      apiClient(() => workerUrl),
      workerUrl,
      nodeId,
      commands,
      10,
      10 * 60_000,
      mode.log,
    );
    await agent.stop();
    // Context: a request with no database work (an authenticated 404), /health (one `SELECT 1`)
    // and one libSQL read, each through the proxy and directly.
    const anyExec = (await must(api("GET", "/api/v1/command_executions?page_size=1"), "list"))[0];
    const context = async (base: string) => ({
      noDb: summarize(await requestSeries(`${base}/api/v1/no_such_resource`, 100, 404)),
      health: summarize(await requestSeries(`${base}/health`, 100)),
      oneRead: summarize(await requestSeries(`${base}/api/v1/command_executions/${anyExec.id}`, 100)),
    });
    const viaProxy = await context(stack.url);
    const viaWorker = await context(workerUrl);

    const sum = (s: Sample[], k: keyof Sample) => summarize(s.map((x) => x[k]));
    const realTotal = sum(real.samples, "total");
    const directTotal = sum(direct.samples, "total");
    const inTotal = sum(inproc.samples, "total");
    const row = (label: string, s: Summary) => [
      label,
      s.n,
      fmt(s.p50, 2),
      fmt(s.p90, 2),
      fmt(s.p99, 2),
      fmt(s.max, 1),
      `${fmt(s.p50 / floor.p50, 1)}×`,
    ];
    const phases = (label: string, s: Sample[]) => [
      label,
      fmt(sum(s, "post").p50, 2),
      fmt(sum(s, "list").p50, 2),
      fmt(sum(s, "stream").p50, 2),
    ];
    const goalRatio = ratio(realTotal.p50, floor.p50);
    return {
      name: "roundtrip",
      title: "1. Round trip (one node)",
      markdown: [
        table(
          ["measurement", "n", "p50 ms", "p90 ms", "p99 ms", "max ms", "p50 / floor p50"],
          [
            row("floor: app ping/pong through the DO", floor),
            row("floor again (after the commands)", floorAfter),
            row("command → completed on SSE, real agent (sh -c true)", realTotal),
            row("command → completed on SSE, in-process executor", inTotal),
            row("command → completed on SSE, real agent, API without wrangler's proxy", directTotal),
            row("context: authenticated 404 (no database work)", viaProxy.noDb),
            row("context: GET /health (one `SELECT 1`)", viaProxy.health),
            row("context: GET /api/v1/command_executions/{id} (one libSQL read)", viaProxy.oneRead),
            row("context without wrangler's proxy: authenticated 404", viaWorker.noDb),
            row("context without wrangler's proxy: GET /health", viaWorker.health),
            row("context without wrangler's proxy: GET /api/v1/command_executions/{id}", viaWorker.oneRead),
          ],
        ),
        "",
        "Phases (p50 ms): POST /commands → GET /command_executions?command_id= → SSE until `end`. They overlap with the server's background work (dispatch, the agent's result), so each phase also absorbs work of the others.",
        "",
        table(
          [
            "client",
            "POST",
            "list",
            "SSE",
            "libSQL requests / command",
            "libSQL statements / command",
            "libSQL server ms / command",
          ],
          [
            [...phases("real agent", real.samples), realDb.requests, realDb.statements, realDb.ms],
            [...phases("real agent, without wrangler's proxy", direct.samples), "", "", ""],
            [
              ...phases("in-process executor", inproc.samples),
              inprocDb.requests,
              inprocDb.statements,
              inprocDb.ms,
            ],
          ],
        ),
        "",
        "CPU time per command (ms, all processes of the stack; `client` = the agent process or the swarm; the real agent's `sh -c true` children are not counted):",
        "",
        table(
          ["client", ...CPU_GROUPS, "sum"],
          [
            ["real agent", ...CPU_GROUPS.map((g) => realCpu[g]), sumOf(realCpu)],
            ["in-process executor", ...CPU_GROUPS.map((g) => inprocCpu[g]), sumOf(inprocCpu)],
          ],
        ),
        "",
        ...profileMarkdown([{ label: "in-process executor series", profiles }]),
      ],
      goals: [
        {
          what: "round trip p50 / ping floor p50 (real agent)",
          goal: "≤ 3×",
          value: `${goalRatio}× (${realTotal.p50} ms / ${floor.p50} ms)`,
          met: goalRatio <= 3,
        },
      ],
      notes: [
        ...real.failures.slice(0, 3).map((f) => `real agent failure: ${f}`),
        ...direct.failures.slice(0, 3).map((f) => `real agent without the proxy failure: ${f}`),
        ...inproc.failures.slice(0, 3).map((f) => `in-process failure: ${f}`),
      ],
      data: {
        floor,
        floorAfter,
        viaProxy,
        viaWorker,
        realDb,
        inprocDb,
        realCpu,
        inprocCpu,
        profiles,
        real: { total: realTotal, samples: real.samples, failures: real.failures },
        direct: { total: directTotal, samples: direct.samples, failures: direct.failures },
        inproc: { total: inTotal, samples: inproc.samples, failures: inproc.failures },
        probe: topSql(stack.probe()),
      },
    };
  } finally {
    await swarm?.stop().catch(() => {});
    await stack.stop();
  }
}

const CPU_GROUPS = ["workerd", "proxy", "libsql", "wrangler", "runner", "client", "bench"];

function cpuPerCommand(figures: Record<string, ProcFigures>, commands: number): Record<string, number> {
  return Object.fromEntries(
    CPU_GROUPS.map((g) => [g, round(((figures[g]?.cpu_seconds ?? 0) * 1000) / commands, 1)]),
  );
}

const sumOf = (cpu: Record<string, number>) =>
  round(
    Object.values(cpu).reduce((a, b) => a + b, 0),
    1,
  );

/** libSQL work per command between two probe readings (Hrana requests, statements, server time). */
function perCommand(
  a: ReturnType<BenchStack["probe"]>,
  b: ReturnType<BenchStack["probe"]>,
  commands: number,
) {
  if (!a || !b) return { requests: Number.NaN, statements: Number.NaN, ms: Number.NaN };
  return {
    requests: round((b.http_requests - a.http_requests) / commands, 1),
    statements: round((b.statements - a.statements) / commands, 1),
    ms: round((b.http_ms - a.http_ms) / commands, 2),
  };
}

/** The libSQL statements that took the most time in total (from the probe). */
export function topSql(probe: { by_sql: Record<string, { n: number; ms: number }> } | null, limit = 12) {
  if (!probe) return [];
  return Object.entries(probe.by_sql)
    .map(([sql, s]) => ({ sql: sql.replace(/\s+/g, " ").slice(0, 200), n: s.n, ms: Math.round(s.ms) }))
    .sort((a, b) => b.ms - a.ms)
    .slice(0, limit);
}
