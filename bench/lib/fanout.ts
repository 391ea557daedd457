// 2. Fan-out. A swarm with N agent connections (real agent connection/protocol code, exec answered
// in-process). N escalates (100, 1,000, 5,000, 10,000) on one stack, enrolling only the new nodes,
// and stops at the first step that fails or exceeds its time bound. Measured per step: POST
// /api/v1/commands {targeting: all} → all N executions `completed` (GET /commands/{id}/summary
// polled every 200 ms), executions/s, peak RSS of workerd and of the swarm during the step.
import { type Api, apiClient, clusterWithKey, must } from "./api";
import { type BenchStack, startBenchStack } from "./bench-stack";
import { type ProfileSummary, profileMarkdown, startProfile } from "./inspector";
import { openFileCount, openFileLimit, ProcSampler } from "./proc";
import { topSql } from "./roundtrip";
import { seedNodes } from "./seed-nodes";
import { mb, round, sleep, summarize } from "./stats";
import { ENROL_CONCURRENCY, Swarm } from "./swarm-client";
import { type BenchResult, fmt, type Goal, type Mode, table } from "./types";

export interface FanoutOptions {
  steps?: number[];
  /** "api" (default): every node through POST /agent/v1/enroll; "direct": the first through the API, the rest inserted into libSQL. */
  enrol?: "api" | "direct";
  /** Bound for one fan-out (POST → all completed). */
  boundMs?: number;
}

interface Step {
  n: number;
  enrol_ms: number;
  enrol_failed: number;
  enrol_p50_ms: number;
  enrol_p99_ms: number;
  connect_ms: number;
  ready: number;
  post_ms: number;
  completed: number;
  seconds: number | null;
  exec_per_s: number | null;
  first_exec_s: number | null;
  last_exec_s: number | null;
  workerd_peak_mb: number;
  swarm_peak_mb: number;
  libsql_statements: number;
  libsql_requests?: number;
  libsql_server_ms?: number;
  cpu?: Record<string, number>;
  /** workerd's open files with all N agents connected. */
  workerd_open_files?: number;
  status: string;
  error_samples?: string[];
}

async function waitCompleted(api: Api, commandId: string, n: number, boundMs: number) {
  const started = performance.now();
  let last: any;
  while (performance.now() - started < boundMs) {
    const r = await api("GET", `/api/v1/commands/${commandId}/summary`);
    if (r.status === 200) {
      last = r.json.data;
      if (last.counts.completed >= n) return { ms: performance.now() - started, summary: last };
    }
    await sleep(200);
  }
  return { ms: null, summary: last };
}

export async function fanout(mode: Mode, options: FanoutOptions = {}): Promise<BenchResult> {
  const steps = options.steps ?? (mode.quick ? [50, 200] : [100, 1000, 5000, 10000]);
  const boundMs = options.boundMs ?? (mode.quick ? 60_000 : 120_000);
  const stack: BenchStack = await startBenchStack();
  const api = apiClient(() => stack.url);
  const swarm = await Swarm.start();
  const results: Step[] = [];
  const profiles: { n: number; profiles: ProfileSummary[] }[] = [];
  const connectProfiles: { n: number; profiles: ProfileSummary[] }[] = [];
  const notes: string[] = [];
  let stoppedBecause = "";
  try {
    const key = await clusterWithKey(api, "fleet", "100.64.0.0/16");
    const pids = await stack.pids();
    // A profile that cannot start is a note, not a failed benchmark.
    const profileWindow = (label: string) =>
      mode.profile
        ? startProfile(pids.workerd[0], `${mode.filePrefix}-${label}`, `${stack.url}/health`).catch((e) => {
            notes.push(`profile: ${e.message}`);
            return undefined;
          })
        : Promise.resolve(undefined);
    // Each connected agent holds workerd descriptors (its socket; its NodeSession's SQLite file, WAL
    // and shared memory). Past the process's limit workerd's accept() fails and the runtime restarts,
    // dropping every agent, so a step that cannot fit is reported, not attempted.
    const baselineFds = openFileCount(pids.workerd[0]);
    let fdsPerAgent: number | null = null;
    for (const n of steps) {
      const fdLimit = openFileLimit(pids.workerd[0]);
      if (fdsPerAgent && fdLimit && baselineFds + n * fdsPerAgent > fdLimit * 0.95) {
        const status = `not attempted: needs ~${Math.round(baselineFds + n * fdsPerAgent)} open files in workerd (${round(fdsPerAgent, 1)} per agent measured), its limit is ${fdLimit}`;
        notes.push(`N=${n}: ${status}`);
        stoppedBecause = `N=${n}: ${status}`;
        break;
      }
      const have = (await swarm.stats()).identities;
      const enrolBound = mode.quick ? 120_000 : 20 * 60_000;
      let enrol: { enrolled: number; failed: number; ms: number; latencies: number[]; total: number };
      if (options.enrol === "direct" && have > 0) {
        mode.log(`  N=${n}: inserting ${n - have} nodes directly into libSQL`);
        const t = performance.now();
        const template = (await swarm.identities())[0].node_id;
        const added = await seedNodes(stack, template, n - have);
        await swarm.adopt(added);
        enrol = {
          enrolled: added.length,
          failed: 0,
          ms: performance.now() - t,
          latencies: [],
          total: have + added.length,
        };
      } else {
        mode.log(`  N=${n}: enrolling ${n - have} nodes through the API`);
        enrol = await swarm.enroll(
          key,
          options.enrol === "direct" ? 1 : n - have,
          ENROL_CONCURRENCY,
          enrolBound,
        );
        if (options.enrol === "direct" && n - have > 1) {
          const t = performance.now();
          const template = (await swarm.identities())[0].node_id;
          const added = await seedNodes(stack, template, n - have - 1);
          await swarm.adopt(added);
          enrol = {
            ...enrol,
            enrolled: enrol.enrolled + added.length,
            ms: enrol.ms + performance.now() - t,
            total: enrol.total + added.length,
          };
        }
      }
      const lat = summarize(enrol.latencies);
      mode.log(
        `  N=${n}: ${enrol.total} nodes (${enrol.enrolled} new in ${round(enrol.ms / 1000, 1)} s, p50 ${lat.p50} ms, p99 ${lat.p99} ms, failed ${enrol.failed}); connecting`,
      );
      const step: Step = {
        n,
        enrol_ms: Math.round(enrol.ms),
        enrol_failed: enrol.failed,
        enrol_p50_ms: lat.p50,
        enrol_p99_ms: lat.p99,
        connect_ms: 0,
        ready: 0,
        post_ms: 0,
        completed: 0,
        seconds: null,
        exec_per_s: null,
        first_exec_s: null,
        last_exec_s: null,
        workerd_peak_mb: 0,
        swarm_peak_mb: 0,
        libsql_statements: 0,
        status: "ok",
      };
      results.push(step);
      if (enrol.failed) {
        const samples = (await swarm.stats()).error_samples.filter((e) => e.startsWith("enrol"));
        notes.push(`N=${n}: ${enrol.failed} enrolments failed, e.g. ${samples.slice(0, 2).join(" | ")}`);
      }
      // Fewer nodes than planned (failed enrolments): measure with what there is if ≥ 99 %.
      if (enrol.total < n * 0.99) {
        step.status = `enrolment incomplete (${enrol.total}/${n})`;
        stoppedBecause = `N=${n}: ${step.status}`;
        break;
      }
      if (enrol.total < n) step.status = `ok with ${enrol.total} nodes`;
      const target = enrol.total;
      // Bounded by N: connecting is limited by the Worker's one thread (each hello is a Worker
      // request, a DO wake and a libSQL batch, while the already connected agents heartbeat).
      const stopConnectProfile = await profileWindow(`connect-${n}`);
      const conn = await swarm.connect(target, { timeoutMs: mode.quick ? 120_000 : 60_000 + target * 40 });
      if (stopConnectProfile) connectProfiles.push({ n, profiles: await stopConnectProfile() });
      step.connect_ms = Math.round(conn.ms);
      step.ready = conn.ready;
      mode.log(`  N=${n}: ${conn.ready} ready in ${round(conn.ms / 1000, 1)} s; fan-out`);
      if (conn.ready < target) {
        step.status = `only ${conn.ready}/${target} connected`;
        step.error_samples = (await swarm.stats()).error_samples;
        notes.push(...step.error_samples.slice(0, 5).map((e) => `swarm: ${e}`));
        notes.push(`stack output tail: ${stack.stack.output().slice(-1500).replace(/\s+/g, " ")}`);
        stoppedBecause = `N=${n}: ${step.status}`;
        break;
      }
      step.workerd_open_files = openFileCount(pids.workerd[0]);
      fdsPerAgent = Math.max(0, step.workerd_open_files - baselineFds) / target;
      await sleep(2000);
      await swarm.resetTotals();
      const p0 = await stack.probeSettled();
      const probeBefore = p0?.statements ?? 0;
      const requestsBefore = p0?.http_requests ?? 0;
      const msBefore = p0?.http_ms ?? 0;
      const sampler = new ProcSampler(
        {
          workerd: pids.workerd,
          proxy: pids.proxy,
          libsql: pids.libsql,
          wrangler: pids.wrangler,
          swarm: swarm.pid,
        },
        200,
      );
      const stopProfile = await profileWindow(`fanout-${n}`);
      const t0 = Date.now();
      const cmd = await must(
        api("POST", "/api/v1/commands", {
          command_text: "true",
          targeting: { type: "all" },
          timeout: 600_000,
        }),
        "POST /commands (all)",
      );
      step.post_ms = Date.now() - t0;
      const done = await waitCompleted(api, cmd.id, target, boundMs);
      const mem = sampler.stop();
      if (stopProfile) profiles.push({ n, profiles: await stopProfile() });
      const s = await swarm.stats();
      step.completed = done.summary?.counts?.completed ?? 0;
      step.workerd_peak_mb = mb(mem.workerd.peak_rss);
      step.swarm_peak_mb = mb(mem.swarm.peak_rss);
      step.cpu = Object.fromEntries(Object.entries(mem).map(([k, v]) => [k, Math.round(v.cpu_percent)]));
      const p1 = await stack.probeSettled();
      step.libsql_requests = (p1?.http_requests ?? 0) - requestsBefore;
      step.libsql_server_ms = Math.round((p1?.http_ms ?? 0) - msBefore);
      step.first_exec_s = s.first_exec_at ? round((s.first_exec_at - t0) / 1000, 2) : null;
      step.last_exec_s = s.last_exec_at ? round((s.last_exec_at - t0) / 1000, 2) : null;
      step.libsql_statements = ((await stack.probeSettled())?.statements ?? 0) - probeBefore;
      if (done.ms === null) {
        step.status = `not completed within ${boundMs / 1000} s (${step.completed}/${n})`;
        step.error_samples = s.error_samples;
        stoppedBecause = `N=${n}: ${step.status}`;
        mode.log(`  N=${n}: ${step.status}; summary ${JSON.stringify(done.summary?.counts)}`);
        break;
      }
      step.seconds = round((step.post_ms + done.ms) / 1000, 2);
      step.exec_per_s = round(target / step.seconds, 0);
      mode.log(
        `  N=${n}: all completed in ${step.seconds} s (${step.exec_per_s}/s), workerd peak ${step.workerd_peak_mb} MB, swarm peak ${step.swarm_peak_mb} MB`,
      );
    }
  } catch (err) {
    // A failed step must not leave its stack running under the next benchmark.
    await swarm.stop().catch(() => {});
    await stack.stop().catch(() => {});
    throw err;
  } finally {
    await swarm.stop().catch(() => {});
  }
  const probe = stack.probe();
  await stack.stop();

  const goals: Goal[] = [];
  for (const [n, limit] of [
    [1000, 5],
    [10000, 30],
  ] as const) {
    const step = results.find((r) => r.n === n);
    goals.push({
      what: `fan-out to ${n.toLocaleString("en")} nodes`,
      goal: `≤ ${limit} s`,
      value: step?.seconds != null ? `${step.seconds} s` : step ? step.status : "not reached",
      met: step?.seconds != null ? step.seconds <= limit : step ? false : null,
    });
  }
  if (stoppedBecause) notes.push(`escalation stopped: ${stoppedBecause}`);
  return {
    name: "fanout",
    title: "2. Fan-out (swarm, targeting: all)",
    markdown: [
      table(
        [
          "N",
          "POST → all completed s",
          "executions/s",
          "first exec s",
          "last exec s",
          "POST ms",
          "workerd peak MB",
          "swarm peak MB",
          "libSQL requests / stmts / server s",
          "CPU % workerd / proxy workerd / libSQL / wrangler / swarm",
          "enrol s (p50 ms)",
          "connect s",
          "workerd open files",
          "status",
        ],
        results.map((r) => [
          r.n,
          r.seconds ?? "—",
          r.exec_per_s ?? "—",
          r.first_exec_s ?? "—",
          r.last_exec_s ?? "—",
          r.post_ms,
          r.workerd_peak_mb,
          r.swarm_peak_mb,
          `${r.libsql_requests ?? "—"} / ${r.libsql_statements} / ${r.libsql_server_ms != null ? fmt(r.libsql_server_ms / 1000, 1) : "—"}`,
          r.cpu
            ? `${r.cpu.workerd} / ${r.cpu.proxy} / ${r.cpu.libsql} / ${r.cpu.wrangler} / ${r.cpu.swarm}`
            : "—",
          `${fmt(r.enrol_ms / 1000, 1)} (${Number.isFinite(r.enrol_p50_ms) ? r.enrol_p50_ms : "—"})`,
          fmt(r.connect_ms / 1000, 1),
          r.workerd_open_files ?? "—",
          r.status,
        ]),
      ),
      "",
      ...profileMarkdown([
        ...connectProfiles.map((p) => ({ label: `connecting N=${p.n}`, profiles: p.profiles })),
        ...profiles.map((p) => ({ label: `fan-out N=${p.n}`, profiles: p.profiles })),
      ]),
      "Executor: the swarm answers `exec` in-process (ack + result exit 0 at once; no journal, no shell). CPU % is of one core over the fan-out window (the machine has 2 cores). Enrolments run 16 at a time, connects 64 (bench/lib/swarm-client.ts).",
    ],
    goals,
    notes,
    data: { steps: results, probe_top: topSql(probe, 15), profiles, connect_profiles: connectProfiles },
  };
}
