// A benchmark stack: test/support/stack.ts's startStack (the real `npm start` runner: libSQL dev
// server + wrangler dev + ticker) with the libSQL probe preloaded into the dev server, plus helpers
// to find workerd and read the probe's counters.
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { SETTINGS } from "../../src/settings";
import {
  E2E_API_KEY,
  E2E_MASTER_KEY,
  type Stack,
  stackProcesses,
  startStack,
} from "../../test/support/stack";
import { BENCH_DIR, ROOT } from "./paths";

export interface ProbeStats {
  pid: number;
  statements: number;
  writes: number;
  writes_changed: number;
  reads: number;
  exec: number;
  busy_ms: number;
  http_requests: number;
  http_ms: number;
  by_kind: Record<string, number>;
  by_sql: Record<string, { n: number; ms: number }>;
  captured: { seq: number; sql: string; args: unknown[]; ms: number }[];
  seq: number;
  updated_at: number;
}

export interface BenchStack {
  stack: Stack;
  url: string;
  port: number;
  dataDir: string;
  libsqlUrl: string;
  probeFile: string;
  /** The stack's processes by role. */
  pids(): Promise<StackPids>;
  probe(): ProbeStats | null;
  /** Waits until the probe file was rewritten after now (stats settled). */
  probeSettled(): Promise<ProbeStats | null>;
  /** Stops the stack (keeps the data dir when `keepData`). */
  stop(keepData?: boolean): Promise<void>;
  /**
   * Stops the stack and starts a new runner on the same port and data dir (tolerating Worker errors
   * logged while it starts); resolves as soon as the Worker answers /health with any status.
   */
  restart(): Promise<{ downAt: number; upAt: number }>;
}

export interface StackPids {
  runner: number[];
  libsql: number[];
  wrangler: number[];
  /** The workerd running the Worker and its Durable Objects (the one with an inspector). */
  workerd: number[];
  /** wrangler dev's proxy workerd in front of it (listens on the public port). */
  proxy: number[];
}

/** The stack's processes by role (through DATA_DIR in their environment). */
export async function stackPids(dataDir: string): Promise<StackPids> {
  const out: StackPids = { runner: [], libsql: [], wrangler: [], workerd: [], proxy: [] };
  for (const line of await stackProcesses(dataDir)) {
    const pid = Number(line.split(" ")[0]);
    const cmd = line.slice(line.indexOf(" ") + 1);
    if (/workerd serve/.test(cmd)) (cmd.includes("--inspector-addr") ? out.workerd : out.proxy).push(pid);
    else if (cmd.includes("scripts/libsql-server/main.mjs")) out.libsql.push(pid);
    else if (cmd.includes("scripts/dev.mjs")) out.runner.push(pid);
    else if (cmd.includes("wrangler")) out.wrangler.push(pid);
  }
  return out;
}

/**
 * Starts the runner like test/support/stack.ts does, but without failing on Worker errors logged
 * while starting: in the reconnect storm, agents hit the new wrangler before the runner's banner,
 * and the errors they cause are what the benchmark measures, not a broken build.
 */
async function startTolerant(env: Record<string, string>, dataDir: string, port: number): Promise<Stack> {
  const childEnv: Record<string, string | undefined> = { ...process.env };
  for (const setting of SETTINGS) delete childEnv[setting.name];
  Object.assign(childEnv, {
    PATH: [join(ROOT, "node_modules/.bin"), process.env.PATH].join(delimiter),
    PORT: String(port),
    DATA_DIR: dataDir,
    DEV_VARS_FILE: join(dataDir, ".dev.vars"),
    API_KEY: E2E_API_KEY,
    MASTER_KEY: E2E_MASTER_KEY,
    DEV_CRON_INTERVAL: "3600",
    ...env,
  });
  const node =
    Number(process.versions.node.split(".")[0]) >= 22
      ? process.execPath
      : join(ROOT, "node_modules/.bin/node");
  const child = spawn(node, [join(ROOT, "scripts/dev.mjs")], {
    cwd: ROOT,
    env: childEnv,
    stdio: ["ignore", "pipe", "pipe"],
  });
  process.once("exit", () => child.kill("SIGINT"));
  let out = "";
  const append = (chunk: Buffer) => {
    out += chunk.toString();
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  child.stdout!.on("data", append);
  child.stderr!.on("data", append);
  const exited = new Promise<number | null>((res) => child.once("exit", (code) => res(code)));
  const url = `http://127.0.0.1:${port}`;
  let stopped: Promise<number | null> | undefined;
  const stack: Stack = {
    url,
    port,
    apiKey: E2E_API_KEY,
    masterKey: E2E_MASTER_KEY,
    dataDir,
    pid: child.pid!,
    output: () => out,
    stop() {
      stopped ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGINT");
        const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
        const code = await exited;
        clearTimeout(timer);
        return code;
      })();
      return stopped;
    },
  };
  // Serving = the Worker answers /health with any status (the runner itself waits for a 200).
  const deadline = Date.now() + 180_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`dev stack exited while starting:\n${out.slice(-3000)}`);
    if (Date.now() > deadline) {
      await stack.stop();
      throw new Error(`dev stack not serving within 180 s:\n${out.slice(-3000)}`);
    }
    const status = await fetch(`${url}/health`, { signal: AbortSignal.timeout(5000) })
      .then(async (r) => {
        await r.arrayBuffer();
        return r.status;
      })
      .catch(() => 0);
    if (status > 0) return stack;
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface BenchStackOptions {
  capture?: boolean;
  env?: Record<string, string>;
  cronInterval?: number;
}

export async function startBenchStack(options: BenchStackOptions = {}): Promise<BenchStack> {
  const dataDir = await mkdtemp(join(tmpdir(), "outpost-bench-"));
  const probeFile = join(dataDir, "libsql-probe.json");
  const env = {
    NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} --import=${BENCH_DIR}/lib/libsql-probe.mjs`.trim(),
    BENCH_LIBSQL_PROBE: probeFile,
    BENCH_LIBSQL_CAPTURE: options.capture ? "1" : "0",
    ...options.env,
  };
  const cronInterval = options.cronInterval ?? 3600;
  let stack = await startStack({ env, dataDir, cronInterval, startTimeoutMs: 180_000 });
  const port = stack.port;
  const libsqlUrlOf = (s: Stack) => {
    const m = /Database\s+(http:\/\/\S+)/.exec(s.output());
    if (!m) throw new Error(`no libSQL URL in the runner's banner:\n${s.output().slice(-2000)}`);
    return m[1];
  };
  const bench: BenchStack = {
    stack,
    url: stack.url,
    port,
    dataDir,
    libsqlUrl: libsqlUrlOf(stack),
    probeFile,
    pids: () => stackPids(dataDir),
    probe() {
      if (!existsSync(probeFile)) return null;
      try {
        return JSON.parse(readFileSync(probeFile, "utf8")) as ProbeStats;
      } catch {
        return null;
      }
    },
    async probeSettled() {
      const since = Date.now();
      for (let i = 0; i < 20; i++) {
        await new Promise((r) => setTimeout(r, 150));
        const p = bench.probe();
        if (p && p.updated_at >= since) return p;
      }
      return bench.probe();
    },
    async stop(keepData = false) {
      await stack.stop();
      if (!keepData) await rm(dataDir, { recursive: true, force: true });
    },
    async restart() {
      await stack.stop();
      const downAt = Date.now();
      stack = await startTolerant(env, dataDir, port);
      bench.stack = stack;
      // The new runner's banner (with the libSQL URL) only comes once /health answers 200.
      bench.libsqlUrl = /Database\s+(http:\/\/\S+)/.exec(stack.output())?.[1] ?? bench.libsqlUrl;
      return { downAt, upAt: Date.now() };
    },
  };
  return bench;
}

export const API_KEY = E2E_API_KEY;
