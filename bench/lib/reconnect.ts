// 4. Reconnect storm. N swarm connections (enrolled 16 and connected 64 at a time), then the stack is restarted: the
// runner stops wrangler dev and the libSQL dev server, a new runner starts on the same port and data
// dir (the runner can't restart wrangler alone). Measured: when each connection is ready again
// (hello → config) relative to the new Worker answering and to the old stack being down, the spread
// of those times, and every reconnection attempt the agents' jittered backoff made (from the
// agent's own "connecting" log calls), bounded in time. At the end: /health of the new stack.
import { apiClient, clusterWithKey } from "./api";
import { startBenchStack } from "./bench-stack";
import { percentile, round, sleep, summarize } from "./stats";
import { ENROL_CONCURRENCY, Swarm } from "./swarm-client";
import { type BenchResult, fmt, type Goal, type Mode, table } from "./types";

function histogram(times: number[], origin: number, bin = 1): string {
  const bins = new Map<number, number>();
  for (const t of times) {
    const k = Math.floor((t - origin) / 1000 / bin) * bin;
    bins.set(k, (bins.get(k) ?? 0) + 1);
  }
  return [...bins.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([s, n]) => `${s}s:${n}`)
    .join(" ");
}

export async function reconnect(mode: Mode): Promise<BenchResult> {
  const n = mode.quick ? 100 : 1000;
  const boundMs = mode.quick ? 90_000 : 240_000;
  const stack = await startBenchStack();
  const api = apiClient(() => stack.url);
  const swarm = await Swarm.start();
  try {
    const key = await clusterWithKey(api, "storm", "100.72.0.0/20");
    const enrol = await swarm.enroll(key, n, ENROL_CONCURRENCY, 15 * 60_000);
    if (enrol.total < n) throw new Error(`enrolled only ${enrol.total}/${n}`);
    const conn = await swarm.connect(n, { timeoutMs: mode.quick ? 120_000 : 15 * 60_000 });
    if (conn.ready < n) throw new Error(`only ${conn.ready}/${n} connected`);
    mode.log(`  ${n} connected in ${round(conn.ms / 1000, 1)} s; restarting the stack`);
    await sleep(2000);
    const attemptsBefore = (await swarm.attempts()).length;
    const stopAt = Date.now();
    const { downAt, upAt } = await stack.restart();
    mode.log(
      `  old stack down after ${round((downAt - stopAt) / 1000, 1)} s; new Worker answering ${round((upAt - downAt) / 1000, 1)} s later; waiting up to ${boundMs / 1000} s`,
    );
    const readyOverTime: string[] = [];
    const deadline = upAt + boundMs;
    let ready = 0;
    while (Date.now() < deadline) {
      ready = (await swarm.stats()).ready;
      readyOverTime.push(`${Math.round((Date.now() - upAt) / 1000)}s:${ready}`);
      if (ready >= n) break;
      await sleep(1000);
    }
    const healthAtEnd: number[] = [];
    for (let i = 0; i < 5; i++)
      healthAtEnd.push(
        await fetch(`${stack.url}/health`).then(
          (r) => r.status,
          () => 0,
        ),
      );
    const wedged = healthAtEnd.every((s) => s !== 200);
    const timeline = await swarm.timeline();
    const attempts = (await swarm.attempts()).slice(attemptsBefore);
    const s = await swarm.stats();
    const back = timeline
      .map((t) => t.ready.find((r) => r > stopAt))
      .filter((r): r is number => r !== undefined);
    const fromUp = back.map((r) => (r - upAt) / 1000);
    const allBack = back.length === n;
    const spread = summarize(fromUp);
    const attemptTimes = attempts.map((a) => (a - downAt) / 1000);
    const attemptGaps = attempts.length ? summarize(attemptTimes) : null;
    const goals: Goal[] = [
      {
        what: `${n} agents back after a restart`,
        goal: "all, spread by jitter",
        value: allBack
          ? `all in ${fmt(Math.max(...fromUp), 1)} s after the new Worker answered`
          : `${back.length}/${n} within ${boundMs / 1000} s${wedged ? "; the new Worker then failed every /health (500)" : ""}`,
        met: allBack,
      },
    ];
    return {
      name: "reconnect",
      title: `4. Reconnect storm (${n} agents, stack restart)`,
      markdown: [
        table(
          ["measure", "value"],
          [
            ["agents ready again", `${back.length}/${n}${allBack ? "" : ` (bound ${boundMs / 1000} s)`}`],
            ["old stack stop took", `${fmt((downAt - stopAt) / 1000, 1)} s`],
            ["new Worker answering after", `${fmt((upAt - downAt) / 1000, 1)} s`],
            ["all back, from the new Worker answering", allBack ? `${fmt(Math.max(...fromUp), 1)} s` : "—"],
            [
              "all back, from the old stack down",
              allBack ? `${fmt(Math.max(...fromUp) + (upAt - downAt) / 1000, 1)} s` : "—",
            ],
            [
              "back after Worker up: p10 / p50 / p90 / max",
              back.length
                ? `${fmt(percentile(fromUp, 10), 1)} / ${fmt(spread.p50, 1)} / ${fmt(spread.p90, 1)} / ${fmt(spread.max, 1)} s (stdev ${fmt(spread.stdev, 1)} s)`
                : "—",
            ],
            ["reconnection attempts", `${attempts.length} (${fmt(attempts.length / n, 1)} per agent)`],
            [
              "attempt times after the old stack went down: p10 / p50 / p90",
              attemptGaps
                ? `${fmt(percentile(attemptTimes, 10), 1)} / ${fmt(attemptGaps.p50, 1)} / ${fmt(attemptGaps.p90, 1)} s`
                : "—",
            ],
            ["GET /health of the new stack at the end", healthAtEnd.join(", ")],
          ],
        ),
        "",
        `Ready connections over time (s after the new Worker answered): ${readyOverTime.filter((_, i, a) => i % Math.max(1, Math.floor(a.length / 30)) === 0 || i === a.length - 1).join(" ")}`,
        "",
        `Reconnection attempts per 2 s after the old stack went down: ${histogram(attempts, downAt, 2)}`,
        "",
        `Agents back per 2 s after the new Worker answered: ${histogram(back, upAt, 2) || "none"}`,
      ],
      goals,
      notes: [
        ...(wedged
          ? [
              'the new Worker answered every request that touches libSQL with 500 ("code had hung") after the reconnect burst — see the README\'s findings (module-global libSQL client)',
            ]
          : []),
        ...s.error_samples.slice(0, 3).map((e) => `swarm: ${e}`),
      ],
      data: {
        n,
        stopAt,
        downAt,
        upAt,
        back: back.length,
        fromUp: fromUp.map((v) => round(v, 3)),
        spread,
        attempts: attempts.map((a) => a - downAt),
        readyOverTime,
        healthAtEnd,
        wedged,
        stack_output_tail: stack.stack.output().slice(-3000),
      },
    };
  } finally {
    await swarm.stop().catch(() => {});
    await stack.stop();
  }
}
