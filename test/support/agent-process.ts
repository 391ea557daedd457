// E2E helper: real `outpost-agent` processes (the bundle on the machine's Node 20), each with its
// own state dir; output captured, log lines awaited, every process stopped by stopAllAgents().
import { type ChildProcess, spawn } from "node:child_process";
import { copyFile, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { node20 } from "./node20";
import { ROOT } from "./stack";

/** Re-exported: the agent helpers' callers find Node 20 here too. */
export { node20 };

/**
 * A private copy of the published bundle (dist/agent/outpost-agent.mjs, built by the e2e global
 * setup), so a rebuild by someone else mid-test can't swap the file under running agents.
 * The file name keeps "outpost-agent": the agent's pid lock recognises its peers by it.
 */
export async function copyBundle(dir: string): Promise<string> {
  const target = join(dir, "outpost-agent.mjs");
  await copyFile(join(ROOT, "dist/agent/outpost-agent.mjs"), target);
  return target;
}

export interface AgentExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface AgentProcess {
  child: ChildProcess;
  pid: number;
  stateDir: string;
  /** stdout and stderr interleaved, as the process wrote them. */
  output(): string;
  stdout(): string;
  stderr(): string;
  /** True until the process exited. */
  running(): boolean;
  exited: Promise<AgentExit>;
  /** Current length of output(): pass it to waitFor() to only match later lines. */
  mark(): number;
  /** Resolves the first output line (after `from`) matching `pattern`; rejects on timeout or exit. */
  waitFor(pattern: RegExp | string, options?: { from?: number; timeoutMs?: number }): Promise<string>;
  /** SIGTERM, SIGKILL after `graceMs`; resolves the exit. */
  stop(graceMs?: number): Promise<AgentExit>;
}

const live = new Set<AgentProcess>();
process.once("exit", () => {
  for (const agent of live) agent.child.kill("SIGKILL");
});

export interface AgentOptions {
  bundle: string;
  stateDir: string;
  /** Command line after the bundle (default `run`). */
  args?: string[];
  /** Environment on top of PATH and OUTPOST_STATE_DIR; nothing else is inherited. */
  env?: Record<string, string>;
  /** Node/V8 flags before the bundle (e.g. the installed wrapper's, see wrapperNodeFlags). */
  nodeArgs?: string[];
  /** A command that execs its arguments (Node and the rest), e.g. to enter a cgroup first. */
  launcher?: string[];
}

/**
 * The Node/V8 flags an installed wrapper (`$ROOT/usr/local/bin/outpost-agent`) passes before the
 * bundle, so a test or benchmark can run the bundle the way the wrapper does.
 */
export function wrapperNodeFlags(wrapper: string): string[] {
  const line = /^exec "[^"]+" (.*?) ?\/usr\/local\/lib\/outpost-agent\/outpost-agent\.mjs "\$@"$/m.exec(
    wrapper,
  );
  if (!line) throw new Error(`no exec line in the wrapper:\n${wrapper}`);
  return line[1].split(/\s+/).filter(Boolean);
}

/** Starts the agent bundle on Node 20. */
export function startAgent(options: AgentOptions): AgentProcess {
  const command = [node20(), ...(options.nodeArgs ?? []), options.bundle, ...(options.args ?? ["run"])];
  const [file, ...args] = [...(options.launcher ?? []), ...command];
  const child = spawn(file, args, {
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      OUTPOST_STATE_DIR: options.stateDir,
      ...options.env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let all = "";
  let out = "";
  let err = "";
  child.stdout!.on("data", (chunk: Buffer) => {
    out += chunk;
    all += chunk;
  });
  child.stderr!.on("data", (chunk: Buffer) => {
    err += chunk;
    all += chunk;
  });
  let done = false;
  const exited = new Promise<AgentExit>((resolve) =>
    child.on("close", (code, signal) => {
      done = true;
      resolve({ code, signal });
    }),
  );
  const agent: AgentProcess = {
    child,
    pid: child.pid!,
    stateDir: options.stateDir,
    output: () => all,
    stdout: () => out,
    stderr: () => err,
    running: () => !done && child.exitCode === null && child.signalCode === null,
    exited,
    mark: () => all.length,
    async waitFor(pattern, { from = 0, timeoutMs = 15_000 } = {}) {
      const deadline = Date.now() + timeoutMs;
      const matches = (line: string) =>
        typeof pattern === "string" ? line.includes(pattern) : pattern.test(line);
      for (;;) {
        const line = all.slice(from).split("\n").find(matches);
        if (line !== undefined) return line;
        if (!agent.running())
          throw new Error(`agent ${agent.pid} exited before printing ${pattern}:\n${all.slice(-3000)}`);
        if (Date.now() > deadline)
          throw new Error(
            `agent ${agent.pid} did not print ${pattern} within ${timeoutMs} ms:\n${all.slice(-3000)}`,
          );
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop(graceMs = 12_000) {
      if (agent.running()) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
        await exited;
        clearTimeout(timer);
      }
      return exited;
    },
  };
  live.add(agent);
  exited.then(() => live.delete(agent));
  return agent;
}

/** Runs the agent to completion (e.g. `status`, or an enrolment expected to fail). */
export async function runAgentToExit(options: AgentOptions & { timeoutMs?: number }) {
  const agent = startAgent(options);
  const timer = setTimeout(() => agent.child.kill("SIGKILL"), options.timeoutMs ?? 30_000);
  const exit = await agent.exited;
  clearTimeout(timer);
  return { ...exit, stdout: agent.stdout(), stderr: agent.stderr(), output: agent.output() };
}

/** Stops every agent this helper started that is still running (SIGTERM, then SIGKILL). */
export async function stopAllAgents(): Promise<void> {
  await Promise.all([...live].map((agent) => agent.stop()));
}

/** A fresh temp dir. */
export function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}
