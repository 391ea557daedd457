// 5. Agent footprint. One real agent process (the bundle on Node 20) connected and idle with 15 s
// heartbeats; after a settle period, RSS (sampled every second) and CPU % of one core over the window.

import { join } from "node:path";
import { copyBundle, startAgent, tempDir } from "../../test/support/agent-process";
import { apiClient, clusterWithKey } from "./api";
import { startBenchStack } from "./bench-stack";
import { ProcSampler } from "./proc";
import { mb, round, sleep } from "./stats";
import { type BenchResult, type Mode, table } from "./types";

export async function footprint(mode: Mode): Promise<BenchResult> {
  const seconds = mode.quick ? 20 : 60;
  const heartbeat = mode.quick ? 5 : 15;
  const stack = await startBenchStack();
  const api = apiClient(() => stack.url);
  const work = await tempDir("outpost-bench-fp-");
  try {
    const key = await clusterWithKey(api, "fp", "100.81.0.0/24");
    const bundle = await copyBundle(work);
    const agent = startAgent({
      bundle,
      stateDir: join(work, "agent"),
      env: {
        ENROLLMENT_KEY: key,
        OUTPOST_ID_TYPE: "random",
        OUTPOST_HEARTBEAT_INTERVAL: String(heartbeat),
      },
    });
    await agent.waitFor("connected", { timeoutMs: 60_000 });
    mode.log(`  agent ${agent.pid} connected; settling 10 s, then measuring ${seconds} s`);
    await sleep(10_000);
    const sampler = new ProcSampler({ agent: agent.pid }, 1000);
    await sleep(seconds * 1000);
    const m = sampler.stop().agent;
    const heartbeats = (agent.output().match(/heartbeat/g) ?? []).length;
    await agent.stop();
    const rssOk = m.peak_rss <= 60 * 1024 * 1024;
    const cpuOk = m.cpu_percent <= 0.5;
    return {
      name: "footprint",
      title: `5. Agent footprint (idle ${seconds} s, ${heartbeat} s heartbeats, Node 20)`,
      markdown: [
        table(
          ["measure", "value"],
          [
            ["RSS peak", `${mb(m.peak_rss)} MB`],
            ["RSS mean", `${mb(m.mean_rss)} MB`],
            ["CPU (% of one core, over the window)", `${round(m.cpu_percent, 3)} %`],
          ],
        ),
      ],
      goals: [
        { what: "agent RSS", goal: "≤ 60 MB", value: `${mb(m.peak_rss)} MB peak`, met: rssOk },
        { what: "agent CPU idle", goal: "≤ 0.5 %", value: `${round(m.cpu_percent, 3)} %`, met: cpuOk },
      ],
      notes: heartbeats ? [] : [],
      data: { seconds, heartbeat, ...m, pid: agent.pid },
    };
  } finally {
    await stack.stop();
  }
}
