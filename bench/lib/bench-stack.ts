import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { E2E_API_KEY, type Stack, stackProcesses, startStack } from "../../test/support/stack";
import { BENCH_DIR } from "./paths";
import { listeningPorts } from "./proc";

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
  /**
   * The Worker's own workerd entry socket, behind wrangler's proxy workerd: a diagnostic path that
   * skips the proxy hop. Found by asking each of its listening ports for /health.
   */
  workerUrl(): Promise<string>;
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
    async workerUrl() {
      const [pid] = (await stackPids(dataDir)).workerd;
      for (const port of pid ? listeningPorts(pid) : []) {
        const url = `http://127.0.0.1:${port}`;
        const body = await fetch(`${url}/health`, { signal: AbortSignal.timeout(5000) })
          .then((r) => (r.ok ? (r.json() as Promise<{ data?: { version?: string } }>) : null))
          .catch(() => null);
        if (body?.data?.version) return url;
      }
      throw new Error("the Worker's workerd answers /health on none of its listening ports");
    },
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
      // The probe rewrites its file at most every 200 ms: look often, give up after 3 s.
      for (let i = 0; i < 60; i++) {
        await new Promise((r) => setTimeout(r, 50));
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
      // Tolerant: agents hit the new wrangler before the runner's banner, and the errors they cause
      // are what the benchmark measures, not a broken build.
      stack = await startStack({
        env: { ...env, PORT: String(port) },
        dataDir,
        cronInterval,
        startTimeoutMs: 180_000,
        tolerant: true,
      });
      bench.stack = stack;
      // The new runner's banner (with the libSQL URL) only comes once /health answers 200.
      bench.libsqlUrl = /Database\s+(http:\/\/\S+)/.exec(stack.output())?.[1] ?? bench.libsqlUrl;
      return { downAt, upAt: Date.now() };
    },
  };
  return bench;
}

export const API_KEY = E2E_API_KEY;

/** What libSQL executed between two probe readings: statements, busy time, the costliest SQL. */
export function probeWindow(before: ProbeStats | null, after: ProbeStats | null) {
  if (!before || !after) return undefined;
  const top = Object.entries(after.by_sql)
    .map(([sql, s]) => {
      const b = before.by_sql[sql] ?? { n: 0, ms: 0 };
      return { sql: sql.replace(/\s+/g, " ").slice(0, 160), n: s.n - b.n, ms: Math.round(s.ms - b.ms) };
    })
    .filter((x) => x.n > 0)
    .sort((a, b) => b.ms - a.ms)
    .slice(0, 5);
  return {
    statements: after.statements - before.statements,
    writes: after.writes - before.writes,
    busy_ms: Math.round(after.busy_ms - before.busy_ms),
    http_requests: after.http_requests - before.http_requests,
    top,
  };
}
