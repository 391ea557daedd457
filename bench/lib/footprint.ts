// 5. Agent footprint (issue 25). Real agent processes (the bundle on Node 20) on one stack, in the
// same run so they compare: the agent as agent/install.sh installs it (the wrapper's Node/V8
// flags), the bundle with no flags, and the bundle with each candidate flag alone. Each variant is
// started in turn and timed to `connected` (enrolment included); then all idle together with 15 s
// heartbeats: RSS (median and peak, file-backed and anonymous) and CPU % of one core over the
// window after a settle. Then a burst of commands with output to every node: peak RSS. A diagnostic
// copy of the installed agent reports process.memoryUsage(), V8's heap spaces, the built-in modules
// loaded and a heap snapshot's largest object groups. Last, the installed agent is restarted:
// start-up to `connected` of an enrolled agent.

import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  type AgentProcess,
  node20,
  startAgent,
  stopAllAgents,
  tempDir,
  wrapperNodeFlags,
} from "../../test/support/agent-process";
import { AGENT_DIAG_PRELOAD, heapSnapshotGroups } from "./agent-heap-diag";
import { apiClient, clusterWithKey, must } from "./api";
import { API_KEY, startBenchStack } from "./bench-stack";
import { cpuSeconds, rssBytes, rssParts } from "./proc";
import { mb, percentile, round, sleep } from "./stats";
import { type BenchResult, type Mode, table } from "./types";

/** Candidate flags, each measured alone against the bundle with none. */
const CANDIDATES = [
  "--max-semi-space-size=1",
  "--max-old-space-size=64",
  "--single-threaded-gc",
  "--single-threaded",
  "--v8-pool-size=1",
  "--optimize-for-size",
  "--max-lazy",
  "--lite-mode",
  "--jitless",
  "--no-icu-timezone-data",
];

const RSS_BUDGET = 45 * 1024 * 1024;
/** The issue's file transfer: uploaded to the installed agent, then downloaded, through the API. */
const TRANSFER_MIB = 50;
const PEAK_BUDGET = 80 * 1024 * 1024;

/** `export NAME=value` lines of the installed wrapper: environment the agent starts with. */
function wrapperEnv(wrapper: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const m of wrapper.matchAll(/^export ([A-Z_]+)=(\S+)$/gm)) env[m[1]] = m[2];
  return env;
}

function installedEnvText(env: Record<string, string>): string {
  const pairs = Object.entries(env).map(([k, value]) => `${k}=${value}`);
  return pairs.length ? `wrapper flags and ${pairs.join(" ")}` : "wrapper flags";
}

interface Peak {
  rss: number;
  anon: number;
  seconds: number;
}

/** Peak RSS (and anonymous part) of `pid` while `work` runs, sampled every 100 ms. */
async function peakOf(pid: number, work: () => Promise<unknown>): Promise<Peak> {
  const peak = { rss: rssBytes(pid), anon: rssParts(pid).anon };
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      peak.rss = Math.max(peak.rss, rssBytes(pid));
      peak.anon = Math.max(peak.anon, rssParts(pid).anon);
      await sleep(100);
    }
  })();
  const t = performance.now();
  try {
    await work();
    await sleep(1000);
  } finally {
    sampling = false;
    await sampler;
  }
  return { ...peak, seconds: (performance.now() - t) / 1000 };
}

const peakText = (p: Peak | undefined) =>
  p ? `${mb(p.rss)} (anon ${mb(p.anon)}, ${round(p.seconds, 1)} s)` : "—";

const headers = { authorization: `Bearer ${API_KEY}` };

/** Uploads `bytes` to `dest` on the node through the API. */
async function upload(base: string, nodeId: string, dest: string, bytes: Buffer): Promise<void> {
  const form = new FormData();
  form.set("dest", dest);
  form.set("overwrite", "true");
  form.set("file", new File([bytes], "bench.bin"));
  const up = await fetch(`${base}/api/v1/nodes/${nodeId}/files`, { method: "POST", headers, body: form });
  if (up.status !== 201) throw new Error(`upload: ${up.status} ${await up.text()}`);
}

/** Downloads `dest` from the node through the API and checks its length. */
async function download(base: string, nodeId: string, dest: string, length: number): Promise<void> {
  const down = await fetch(`${base}/api/v1/nodes/${nodeId}/files?path=${encodeURIComponent(dest)}`, {
    headers,
  });
  let got = 0;
  for await (const chunk of down.body as unknown as AsyncIterable<Uint8Array>) got += chunk.length;
  if (down.status !== 200 || got !== length) throw new Error(`download: ${down.status}, ${got} bytes`);
}

const EXPERIMENTS: [string, Record<string, string>, string[]?][] = process.env.FP_EXPERIMENTS
  ? JSON.parse(process.env.FP_EXPERIMENTS)
  : [];

interface Variant {
  name: string;
  flags: string[];
  agent?: AgentProcess;
  startup_ms?: number;
  rss: number[];
  anon: number[];
  file: number[];
  cpu0?: number;
  cpu_percent?: number;
  burst_peak?: number;
  burst_peak_anon?: number;
  /** A bare `node` with these flags and an interval timer, no agent: the floor. */
  bare?: boolean;
  /** Extra environment for this variant (malloc tuning candidates). */
  env?: Record<string, string>;
  error?: string;
}

function sh(script: string, args: string[], env: Record<string, string>) {
  return new Promise<{ code: number; stderr: string }>((resolve) => {
    execFile(
      "sh",
      [script, ...args],
      { env: { PATH: process.env.PATH ?? "", ...env } },
      (error, _out, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stderr }),
    );
  });
}

export async function footprint(mode: Mode): Promise<BenchResult> {
  const seconds = mode.quick ? 20 : 60;
  const settle = mode.quick ? 5 : 10;
  const heartbeat = 15;
  const stack = await startBenchStack();
  const api = apiClient(() => stack.url);
  const work = await tempDir("outpost-bench-fp-");
  const variants: Variant[] = [];
  const notes: string[] = [];
  try {
    const key = await clusterWithKey(api, "fp", "100.81.0.0/24");
    // The agent as an operator installs it: install.sh from this stack, into a temp ROOT.
    const root = join(work, "root");
    const scriptText = await (await fetch(`${stack.url}/install.sh`)).text();
    await writeFile(join(work, "install.sh"), scriptText);
    const install = await sh(join(work, "install.sh"), ["--no-systemd"], {
      ROOT: root,
      ENROLLMENT_KEY: key,
      OUTPOST_NODE: node20(),
    });
    if (install.code !== 0) throw new Error(`install.sh failed: ${install.stderr}`);
    const bundle = join(root, "usr/local/lib/outpost-agent/outpost-agent.mjs");
    const installedFlags = wrapperNodeFlags(
      await readFile(join(root, "usr/local/bin/outpost-agent"), "utf8"),
    );
    const installedEnv = wrapperEnv(await readFile(join(root, "usr/local/bin/outpost-agent"), "utf8"));
    const bundleBytes = (await readFile(bundle)).byteLength;
    await writeFile(join(work, "diag.mjs"), AGENT_DIAG_PRELOAD);

    variants.push({ name: "installed (wrapper flags)", flags: installedFlags, rss: [], anon: [], file: [] });
    if (installedFlags.includes("--lite-mode"))
      variants.push({
        name: "installed without --lite-mode",
        flags: installedFlags.filter((f) => f !== "--lite-mode"),
        rss: [],
        anon: [],
        file: [],
      });
    for (const [name, extra, more] of EXPERIMENTS)
      variants.push({
        name,
        flags: [...installedFlags, ...(more ?? [])],
        env: extra,
        rss: [],
        anon: [],
        file: [],
      });
    variants.push({ name: "no flags", flags: [], rss: [], anon: [], file: [] });
    variants.push({
      name: "bare node (no agent), no flags",
      flags: [],
      bare: true,
      rss: [],
      anon: [],
      file: [],
    });
    variants.push({
      name: "bare node (no agent), wrapper flags",
      flags: installedFlags,
      bare: true,
      rss: [],
      anon: [],
      file: [],
    });
    // Quick runs leave the single-flag candidates out (measured before, docs/agent-footprint.md).
    if (!mode.quick)
      for (const flag of CANDIDATES)
        variants.push({ name: flag, flags: [flag], rss: [], anon: [], file: [] });
    const diag: Variant = {
      name: "diagnostic",
      flags: [...installedFlags, `--import=${join(work, "diag.mjs")}`],
      rss: [],
      anon: [],
      file: [],
    };

    // Every collector on: files may be moved in `files` (the transfer below), logs read in /var/log.
    const files = join(work, "files");
    await mkdir(files);
    const env = (name: string) => ({
      ...installedEnv,
      OUTPOST_FILE_PATHS: files,
      ENROLLMENT_KEY: key,
      OUTPOST_ID_TYPE: "random",
      OUTPOST_HEARTBEAT_INTERVAL: String(heartbeat),
      FOOTPRINT_DIAG_DIR: work,
      OUTPOST_VARIANT: name,
    });
    // One at a time, so each start-up (enrolment, connect) is timed without the others, in a
    // shuffled order: a process started later finds more of node's binary in its page tables
    // (the file-backed part of RSS), and the machine's load changes while they start.
    await writeFile(join(work, "bare.mjs"), 'setInterval(() => {}, 15_000);\nconsole.log("connected");\n');
    const order = [...variants, diag].map((v, i) => ({ v, i, r: Math.random() })).sort((a, b) => a.r - b.r);
    for (const { v, i } of order) {
      const t0 = performance.now();
      v.agent = startAgent({
        bundle: v.bare ? join(work, "bare.mjs") : bundle,
        stateDir: join(work, `agent-${i}`),
        args: v.bare ? [] : undefined,
        env: { ...env(v.name), ...v.env },
        nodeArgs: v.flags,
      });
      try {
        await v.agent.waitFor("connected", { timeoutMs: 60_000 });
        v.startup_ms = performance.now() - t0;
      } catch (error) {
        v.error = (error as Error).message.split("\n")[0];
      }
    }
    // Issue 25 measures idle "after inventory has been reported": every agent collects its whole
    // inventory after its first hello, and 15 of them doing so at once is not idle.
    const reporting = [...variants, diag].filter((v) => v.agent && !v.error && !v.bare);
    const inventoried = await Promise.all(
      reporting.map((v) =>
        v.agent!.waitFor("inventory reported", { timeoutMs: 240_000 }).then(
          () => true,
          () => false,
        ),
      ),
    );
    const missing = inventoried.filter((ok) => !ok).length;
    if (missing)
      notes.push(`${missing} of ${reporting.length} agents had not reported inventory within 240 s`);
    mode.log(
      `  ${variants.length + 1} agents connected and inventoried; settling ${settle} s, then measuring ${seconds} s`,
    );
    await sleep(settle * 1000);
    const live = variants.filter((v) => v.agent && !v.error);
    const t0 = performance.now();
    for (const v of live) v.cpu0 = cpuSeconds(v.agent!.pid);
    while (performance.now() - t0 < seconds * 1000) {
      for (const v of live) {
        v.rss.push(rssBytes(v.agent!.pid));
        const parts = rssParts(v.agent!.pid);
        v.anon.push(parts.anon);
        v.file.push(parts.file);
      }
      await sleep(1000);
    }
    const wall = (performance.now() - t0) / 1000;
    if (process.env.FP_SMAPS_DIR)
      for (const v of live)
        await writeFile(
          join(process.env.FP_SMAPS_DIR, `${v.name.replace(/\W+/g, "_")}.smaps`),
          await readFile(`/proc/${v.agent!.pid}/smaps`, "utf8"),
        );
    for (const v of live) v.cpu_percent = ((cpuSeconds(v.agent!.pid) - v.cpu0!) / wall) * 100;

    // Heap snapshot of the diagnostic copy, idle.
    await writeFile(join(work, "snapshot-now"), "");
    let snapshot: ReturnType<typeof heapSnapshotGroups> = [];
    try {
      await diag.agent!.waitFor("footprint-diag snapshot written", { timeoutMs: 30_000 });
      snapshot = heapSnapshotGroups(await readFile(join(work, "agent.heapsnapshot"), "utf8"));
    } catch (error) {
      notes.push(`no heap snapshot: ${(error as Error).message.split("\n")[0]}`);
    }
    // The last report before the snapshot (writing one grows the heap for good).
    const beforeSnapshot = diag.agent!.output().split("footprint-diag snapshot written")[0];
    const diagLines = beforeSnapshot.split("\n").filter((l) => l.startsWith("footprint-diag {"));
    const lastDiag = diagLines.length ? JSON.parse(diagLines[diagLines.length - 1].slice(15)) : null;

    // A burst: commands with ~600 KB of output each, to every node at once, 3 waves.
    const burstCommands = mode.quick ? 3 : 6;
    const peak = new Map<Variant, number>();
    const peakAnon = new Map<Variant, number>();
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        for (const v of [...live, diag]) {
          peak.set(v, Math.max(peak.get(v) ?? 0, rssBytes(v.agent!.pid)));
          peakAnon.set(v, Math.max(peakAnon.get(v) ?? 0, rssParts(v.agent!.pid).anon));
        }
        await sleep(100);
      }
    })();
    const ids: string[] = [];
    for (let c = 0; c < burstCommands; c++) {
      const cmd = await must(
        api("POST", "/api/v1/commands", {
          command_text: "seq 1 100000",
          targeting: { type: "all" },
          timeout: 120_000,
        }),
        "POST /commands (burst)",
      );
      ids.push(cmd.id);
    }
    const n = live.filter((v) => !v.bare).length + 1;
    const burstStart = performance.now();
    let completed = 0;
    while (performance.now() - burstStart < 120_000) {
      completed = 0;
      for (const id of ids) {
        const r = await api("GET", `/api/v1/commands/${id}/summary`);
        if (r.status === 200) completed += r.json.data.counts.completed ?? 0;
      }
      if (completed >= ids.length * n) break;
      await sleep(250);
    }
    const burstSeconds = (performance.now() - burstStart) / 1000;
    await sleep(2000);
    sampling = false;
    await sampler;
    for (const v of live) {
      if (v.bare) continue;
      v.burst_peak = peak.get(v);
      v.burst_peak_anon = peakAnon.get(v);
    }
    notes.push(
      `burst: ${burstCommands} commands \`seq 1 100000\` (~590 KB of output each) to all ${n} agents at once, ${completed}/${ids.length * n} completed in ${round(burstSeconds, 1)} s. Then the installed agent alone: a full inventory collection on an operator's refresh, and a ${TRANSFER_MIB} MiB file uploaded then downloaded through the API.`,
    );

    // The installed agent alone: a full inventory collection, then a 50 MiB file transfer.
    const installed = variants[0];
    let inventoryPeak: Peak | undefined;
    let uploadPeak: Peak | undefined;
    let transferPeak: Peak | undefined;
    if (installed.agent && !installed.error) {
      const agent = installed.agent;
      const nodeId: string = JSON.parse(
        await readFile(join(work, "agent-0", "identity.json"), "utf8"),
      ).node_id;
      const reported = () => agent.output().split("inventory reported").length;
      const before = reported();
      inventoryPeak = await peakOf(agent.pid, async () => {
        await must(api("PATCH", `/api/v1/nodes/${nodeId}/inventory/refresh`, {}), "refresh", [202]);
        const t = performance.now();
        while (reported() === before && performance.now() - t < 240_000) await sleep(100);
        if (reported() === before) throw new Error("no inventory report within 240 s of the refresh");
      }).catch((error) => {
        notes.push(`inventory refresh: ${(error as Error).message}`);
        return undefined;
      });
      const dest = join(files, "bench.bin");
      const bytes = randomBytes(TRANSFER_MIB * 1024 * 1024);
      const failed = (error: unknown) => {
        notes.push(`file transfer: ${(error as Error).message}`);
        return undefined;
      };
      uploadPeak = await peakOf(agent.pid, () => upload(stack.url, nodeId, dest, bytes)).catch(failed);
      transferPeak = await peakOf(agent.pid, () => download(stack.url, nodeId, dest, bytes.length)).catch(
        failed,
      );
    }

    // Restart of the installed variant: start-up to `connected` of an enrolled agent.
    let restartMs: number | undefined;
    if (installed.agent && !installed.error) {
      await installed.agent.stop();
      const t = performance.now();
      installed.agent = startAgent({
        bundle,
        stateDir: join(work, "agent-0"),
        env: env(installed.name),
        nodeArgs: installed.flags,
      });
      await installed.agent.waitFor("connected", { timeoutMs: 60_000 });
      restartMs = performance.now() - t;
    }
    for (const v of [...variants, diag]) await v.agent?.stop();

    const med = (xs: number[]) => (xs.length ? percentile(xs, 50) : Number.NaN);
    const base = variants[1];
    const row = (v: Variant) => [
      v.name,
      v.error ? `failed: ${v.error}` : `${mb(med(v.rss))}`,
      v.error ? "—" : `${mb(Math.max(...v.rss))}`,
      v.error ? "—" : `${mb(med(v.anon))} / ${mb(med(v.file))}`,
      v.error ? "—" : `${round(med(v.rss) / med(base.rss), 3)}`,
      v.error ? "—" : `${round(v.cpu_percent ?? 0, 3)} %`,
      v.burst_peak ? `${mb(v.burst_peak)} (anon ${mb(v.burst_peak_anon ?? 0)})` : "—",
      v.startup_ms && !v.bare ? `${round(v.startup_ms / 1000, 2)} s` : "—",
    ];
    const inst = installed;
    const instRss = med(inst.rss);
    const markdown = [
      `Installed wrapper flags: \`${installedFlags.join(" ") || "(none)"}\`; bundle ${round(bundleBytes / 1024, 1)} KiB. ${live.length + 1} agents idle together; start-ups one at a time (enrolment + connect).`,
      table(
        [
          "variant",
          "RSS median (MB)",
          "RSS peak idle (MB)",
          "anon / file-backed (MB)",
          "RSS ÷ no flags",
          "CPU idle (% of a core)",
          "peak in burst (MB, anon)",
          "start-up to connected",
        ],
        variants.map(row),
      ),
      `Installed agent restarted (already enrolled): ${restartMs ? `${round(restartMs / 1000, 2)} s` : "—"} to \`connected\`.`,
      `Issue 25's rows, the installed agent (${installedEnvText(installedEnv)}):`,
      table(
        ["what", "figure", "budget"],
        [
          ["idle RSS after inventory was reported (median, MB)", mb(instRss), "≤ 45"],
          ["idle CPU (% of one core)", `${round(inst.cpu_percent ?? 0, 3)} %`, "≤ 0.5 %"],
          ["peak RSS, full inventory collection (operator refresh, MB)", peakText(inventoryPeak), "≤ 80"],
          [`peak RSS, ${TRANSFER_MIB} MiB upload (MB)`, peakText(uploadPeak), "≤ 80"],
          [`peak RSS, ${TRANSFER_MIB} MiB download (MB)`, peakText(transferPeak), "≤ 80"],
          ["peak RSS, command burst (MB)", inst.burst_peak ? mb(inst.burst_peak) : "—", "≤ 80"],
          [
            "start-up to connected, enrolment included (s)",
            inst.startup_ms ? round(inst.startup_ms / 1000, 2) : "—",
            "—",
          ],
          ["start-up to connected, enrolled (s)", restartMs ? round(restartMs / 1000, 2) : "—", "—"],
        ],
      ),
    ];
    if (lastDiag) {
      const m = lastDiag.memory;
      markdown.push(
        `Diagnostic copy (installed flags + a preload), idle: process.memoryUsage() rss ${mb(m.rss)} MB, heapTotal ${mb(m.heapTotal)}, heapUsed ${mb(m.heapUsed)}, external ${mb(m.external)}, arrayBuffers ${mb(m.arrayBuffers)} MB.`,
        table(
          ["V8 space", "size (KB)", "used (KB)"],
          Object.entries(lastDiag.spaces as Record<string, [number, number]>).map(([k, [size, used]]) => [
            k,
            round(size / 1024, 0),
            round(used / 1024, 0),
          ]),
        ),
        `Public built-in modules loaded: ${(lastDiag.builtins as string[]).join(", ")}.`,
      );
    }
    if (snapshot.length)
      markdown.push(
        table(
          ["heap snapshot group (self size)", "count", "KB"],
          snapshot.map((g) => [g.what, g.count, round(g.bytes / 1024, 0)]),
        ),
      );
    return {
      name: "footprint",
      title: `5. Agent footprint (idle ${seconds} s after ${settle} s, ${heartbeat} s heartbeats, Node 20)`,
      markdown,
      goals: [
        {
          what: "installed agent RSS idle",
          goal: "≤ 45 MB",
          value: `${mb(instRss)} MB median, ${mb(Math.max(...inst.rss))} MB peak`,
          met: Math.max(...inst.rss) <= RSS_BUDGET,
        },
        {
          what: "installed agent CPU idle",
          goal: "≤ 0.5 %",
          value: `${round(inst.cpu_percent ?? Number.NaN, 3)} %`,
          met: (inst.cpu_percent ?? 100) <= 0.5,
        },
        {
          what: "installed agent peak (command burst)",
          goal: "≤ 80 MB",
          value: `${mb(inst.burst_peak ?? 0)} MB`,
          met: (inst.burst_peak ?? Number.POSITIVE_INFINITY) <= PEAK_BUDGET,
        },
        {
          what: "installed agent peak (full inventory collection)",
          goal: "≤ 80 MB",
          value: `${peakText(inventoryPeak)} MB`,
          met: (inventoryPeak?.rss ?? Number.POSITIVE_INFINITY) <= PEAK_BUDGET,
        },
        {
          what: `installed agent peak (${TRANSFER_MIB} MiB file transfer)`,
          goal: "≤ 80 MB",
          value: `upload ${peakText(uploadPeak)}, download ${peakText(transferPeak)} MB`,
          met: Math.max(uploadPeak?.rss ?? Number.POSITIVE_INFINITY, transferPeak?.rss ?? 0) <= PEAK_BUDGET,
        },
      ],
      notes,
      data: {
        seconds,
        inventory_peak: inventoryPeak,
        upload_peak: uploadPeak,
        download_peak: transferPeak,
        installed_env: installedEnv,
        heartbeat,
        installed_flags: installedFlags,
        bundle_bytes: bundleBytes,
        restart_ms: restartMs,
        diag: lastDiag,
        snapshot,
        variants: variants.map(({ agent, ...v }) => ({ ...v, pid: agent?.pid })),
      },
    };
  } catch (error) {
    // A request to the stack failing ("fetch failed", seen once) says nothing without the stack's side.
    throw new Error(`${error}\nstack output tail:\n${stack.stack.output().slice(-2000)}`, { cause: error });
  } finally {
    // Every agent this run started (the diagnostic copy too): one left running keeps the process alive.
    await stopAllAgents();
    await stack.stop();
  }
}
