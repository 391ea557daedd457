// 16. Agent footprint with the fuller metrics (issue 19). One real agent (the bundle on Node 20 with
// the installed wrapper's flags) connected through a frame tap (lib/frame-tap.ts: a TCP relay that
// reads the WebSocket frames the agent really sends): every collector the agent has is on (per-core
// CPU, swap, mounts, disk IO, network, sockets, temperatures with every heartbeat; processes,
// containers, services, GPU in the `metrics_detail` frame every `metrics_detail_interval_seconds`,
// default 60). Measured over an idle window after a settle (heartbeats every 15 s, one or more detail
// collections inside it, as in production): RSS mean/peak and CPU % of one core, and the payload
// size of every heartbeat and metrics_detail frame. Goals: ≤ 60 MB RSS, ≤ 0.5 % CPU, heartbeat
// frame < 8 KiB.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeKeyBlob, encodeKeyBlob } from "../../src/enrollment/key-blob";
import { copyBundle, startAgent } from "../../test/support/agent-process";
import { apiClient, clusterWithKey } from "./api";
import { startBenchStack } from "./bench-stack";
import { startFrameTap } from "./frame-tap";
import { ROOT } from "./paths";
import { ProcSampler } from "./proc";
import { mb, sleep } from "./stats";
import { type BenchResult, fmt, type Goal, type Mode, table } from "./types";

export async function metricsFootprint(mode: Mode): Promise<BenchResult> {
  const idleSeconds = mode.quick ? 30 : 90;
  const stack = await startBenchStack();
  const api = apiClient(() => stack.url);
  const tap = await startFrameTap(stack.port);
  const dir = await mkdtemp(join(tmpdir(), "outpost-bench-metrics-"));
  const install = await readFile(join(ROOT, "agent/install.sh"), "utf8");
  const flags = (/^NODE_FLAGS="([^"]*)"/m.exec(install)?.[1] ?? "").split(/\s+/).filter(Boolean);
  const blob = decodeKeyBlob(await clusterWithKey(api, "metrics", "100.76.0.0/24"));
  if (!blob) throw new Error("the enrollment key is not a key blob");
  const agent = startAgent({
    bundle: await copyBundle(dir),
    nodeArgs: flags,
    stateDir: join(dir, "state"),
    env: {
      ENROLLMENT_KEY: encodeKeyBlob({ server: `http://127.0.0.1:${tap.port}`, key: blob.key }),
      OUTPOST_ID_TYPE: "random",
    },
  });
  try {
    await agent.waitFor(/INFO\s+connected/);
    // Past start-up and the first detail collection.
    await sleep(20_000);
    const idle = new ProcSampler({ agent: [agent.pid] }, 500);
    await sleep(idleSeconds * 1000);
    const still = idle.stop().agent;
    const heartbeats = tap.sizes.get("heartbeat") ?? [];
    const details = tap.sizes.get("metrics_detail") ?? [];
    const maxOf = (xs: number[]) => (xs.length ? Math.max(...xs) : Number.NaN);
    const rssMb = mb(still.mean_rss);
    const hbMax = maxOf(heartbeats);
    const goals: Goal[] = [
      {
        what: "agent RSS idle, fuller metrics (mean)",
        goal: "≤ 60 MB",
        value: fmt(rssMb, 1),
        met: rssMb <= 60,
      },
      {
        what: "agent CPU idle, fuller metrics",
        goal: "≤ 0.5 %",
        value: fmt(still.cpu_percent, 2),
        met: still.cpu_percent <= 0.5,
      },
      {
        what: "heartbeat frame, every collector on (largest)",
        goal: "< 8 KiB",
        value: heartbeats.length ? `${hbMax} B` : "no heartbeat seen",
        met: heartbeats.length > 0 && hbMax < 8192,
      },
    ];
    const types = [...tap.sizes.entries()].map(([t, xs]) => `${t} ×${xs.length} (max ${maxOf(xs)} B)`);
    return {
      name: "metrics_footprint",
      title: "16. Agent footprint with the fuller metrics",
      markdown: [
        table(
          [
            "seconds",
            "RSS mean MB",
            "RSS peak MB",
            "CPU % of one core",
            "heartbeats",
            "heartbeat B min / max",
            "metrics_detail B max",
          ],
          [
            [
              idleSeconds,
              fmt(rssMb, 1),
              fmt(mb(still.peak_rss), 1),
              fmt(still.cpu_percent, 2),
              heartbeats.length,
              heartbeats.length ? `${Math.min(...heartbeats)} / ${hbMax}` : "—",
              fmt(maxOf(details), 0),
            ],
          ],
        ),
        "",
        `The agent bundle on Node 20 with the installed wrapper's flags (\`${flags.join(" ")}\`), through the frame tap; frame sizes are the WebSocket payloads (JSON text; the agent sends without compression). Frames seen from start-up on: ${types.join(", ")}.`,
      ],
      goals,
      notes: [],
      data: { idle: still, sizes: Object.fromEntries(tap.sizes) },
    };
  } finally {
    await agent.stop();
    await tap.close();
    await stack.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
