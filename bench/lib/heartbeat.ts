// 6. Heartbeat load. N swarm connections announcing a 1 s heartbeat (hello.heartbeat_interval_seconds
// = 1, so the server's stale window follows), for a fixed window. Measured: heartbeat frames sent per
// second, whether the stack keeps up (an app-level ping on every connection at the end queues behind
// that node's frames in its Durable Object, so its RTT is the backlog; plus pings on 20 connections
// every 5 s during the window), and libSQL writes per heartbeat counted by the probe in the libSQL
// dev server (INSERT/UPDATE/DELETE statements executed during the window ÷ heartbeats sent).
import { apiClient, clusterWithKey } from "./api";
import { startBenchStack } from "./bench-stack";
import { ProcSampler } from "./proc";
import { mb, round, sleep, summarize } from "./stats";
import { ENROL_CONCURRENCY, Swarm } from "./swarm-client";
import { type BenchResult, fmt, type Goal, type Mode, table } from "./types";

interface Step {
  n: number;
  seconds: number;
  heartbeats: number;
  per_second: number;
  lag_p50_ms: number;
  lag_max_ms: number;
  drain_ms: number;
  drain_lost: number;
  writes: number;
  writes_per_heartbeat: number;
  writes_by_kind: Record<string, number>;
  workerd_cpu_percent: number;
  proxy_cpu_percent: number;
  workerd_peak_mb: number;
  libsql_cpu_percent: number;
  kept_up: boolean;
}

export async function heartbeatLoad(mode: Mode): Promise<BenchResult> {
  const steps = mode.quick ? [50] : [100, 1000];
  const seconds = mode.quick ? 15 : 60;
  const stack = await startBenchStack();
  const api = apiClient(() => stack.url);
  const swarm = await Swarm.start();
  const results: Step[] = [];
  const notes: string[] = [];
  // Steps that never reached their window still get a goal row, so a missed step is visible there.
  const unreached: { n: number; why: string }[] = [];
  try {
    const key = await clusterWithKey(api, "hb", "100.73.0.0/20");
    const pids = await stack.pids();
    for (const n of steps) {
      const have = (await swarm.stats()).identities;
      const enrol = await swarm.enroll(key, n - have, ENROL_CONCURRENCY, 15 * 60_000);
      if (enrol.total < n) {
        notes.push(`N=${n}: enrolled only ${enrol.total}`);
        unreached.push({ n, why: `enrolled only ${enrol.total}/${n}` });
        break;
      }
      const conn = await swarm.connect(n, {
        heartbeatSeconds: 1,
        // Agents at 1 s heartbeats reconnect when a pong is late, so connecting them all to a busy
        // stack takes minutes, not seconds; bounded at 6 minutes for 1,000.
        timeoutMs: mode.quick ? 120_000 : 60_000 + n * 300,
      });
      if (conn.ready < n) {
        notes.push(`N=${n}: only ${conn.ready} connected in ${round(conn.ms / 1000, 0)} s`);
        unreached.push({ n, why: `only ${conn.ready}/${n} connected in ${round(conn.ms / 1000, 0)} s` });
        break;
      }
      // Past the connect burst (status writes), and every node's first last_seen_at write.
      await sleep(3000);
      mode.log(`  N=${n} at 1 s heartbeats for ${seconds} s`);
      await swarm.resetTotals();
      const before = await stack.probeSettled();
      const sampler = new ProcSampler(
        { workerd: pids.workerd, proxy: pids.proxy, libsql: pids.libsql, swarm: swarm.pid },
        500,
      );
      const lags: number[] = [];
      const t0 = performance.now();
      while (performance.now() - t0 < seconds * 1000) {
        await sleep(5000);
        lags.push(...(await swarm.pingSome(20, 30_000)).rtts);
      }
      const sent = (await swarm.stats()).heartbeats;
      const sendSeconds = (performance.now() - t0) / 1000;
      const drain = await swarm.pingAll(60_000);
      const elapsed = (performance.now() - t0) / 1000;
      const after = await stack.probeSettled();
      const mem = sampler.stop();
      const writes = (after?.writes ?? 0) - (before?.writes ?? 0);
      const byKind: Record<string, number> = {};
      for (const [k, v] of Object.entries(after?.by_kind ?? {})) {
        const d = v - (before?.by_kind[k] ?? 0);
        if (d) byKind[k] = d;
      }
      const lag = summarize(lags);
      const drainSummary = summarize(drain.rtts);
      const step: Step = {
        n,
        seconds: round(elapsed, 1),
        heartbeats: sent,
        per_second: round(sent / sendSeconds, 0),
        lag_p50_ms: lag.p50,
        lag_max_ms: lag.max,
        drain_ms: round(drain.ms, 0),
        drain_lost: drainSummary.lost,
        writes,
        writes_per_heartbeat: round(writes / Math.max(1, sent), 4),
        writes_by_kind: byKind,
        workerd_cpu_percent: round(mem.workerd.cpu_percent, 0),
        proxy_cpu_percent: round(mem.proxy.cpu_percent, 0),
        workerd_peak_mb: mb(mem.workerd.peak_rss),
        libsql_cpu_percent: round(mem.libsql?.cpu_percent ?? Number.NaN, 0),
        // Kept up: every connection answered the final ping within 2 heartbeat intervals.
        kept_up: drainSummary.lost === 0 && drain.ms <= 2000,
      };
      results.push(step);
      mode.log(
        `  N=${n}: ${step.per_second} heartbeats/s, drain ${step.drain_ms} ms, writes/heartbeat ${step.writes_per_heartbeat}`,
      );
      if (!step.kept_up) {
        notes.push(
          `N=${n}: the stack did not keep up (final ping drain ${step.drain_ms} ms, ${step.drain_lost} lost)`,
        );
        break;
      }
    }
  } finally {
    await swarm.stop().catch(() => {});
    await stack.stop();
  }
  const goal = (n: number, value: string, met: boolean): Goal => ({
    what: `libSQL writes per heartbeat (N=${n})`,
    goal: "≤ 0.05",
    value,
    met,
  });
  const goals: Goal[] = [
    ...results.map((r) => goal(r.n, String(r.writes_per_heartbeat), r.writes_per_heartbeat <= 0.05)),
    ...unreached.map((u) => goal(u.n, `not measured: ${u.why}`, false)),
  ];
  return {
    name: "heartbeat",
    title: "6. Heartbeat load (1 s heartbeats)",
    markdown: [
      table(
        [
          "N",
          "window s",
          "heartbeats/s sent",
          "kept up",
          "ping lag p50 / max ms",
          "final drain ms",
          "libSQL writes",
          "writes / heartbeat",
          "workerd CPU %",
          "proxy workerd CPU %",
          "libSQL CPU %",
          "workerd peak MB",
        ],
        results.map((r) => [
          r.n,
          r.seconds,
          r.per_second,
          r.kept_up ? "yes" : "no",
          `${fmt(r.lag_p50_ms, 1)} / ${fmt(r.lag_max_ms, 0)}`,
          r.drain_ms,
          r.writes,
          r.writes_per_heartbeat,
          r.workerd_cpu_percent,
          r.proxy_cpu_percent,
          r.libsql_cpu_percent,
          r.workerd_peak_mb,
        ]),
      ),
      "",
      `Writes by statement: ${results.map((r) => `N=${r.n}: ${JSON.stringify(r.writes_by_kind)}`).join("; ")}`,
    ],
    goals,
    notes,
    data: { steps: results },
  };
}
