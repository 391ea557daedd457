// Parent side of the swarm (bench/lib/swarm.ts, bundled to bench/dist/swarm.mjs): a child
// process on the agent's Node 20 with an IPC channel; each request gets one reply.
import { type ChildProcess, spawn } from "node:child_process";
import { node20 } from "../../test/support/agent-process";
import { BUILD_DIR } from "./paths";

/**
 * Enrolments and connects in flight at once: a bound on the swarm's own burst, well above what the
 * Worker once survived (about 20, before it got a libSQL client per request).
 */
export const SWARM_CONCURRENCY = 64;

/**
 * Enrolments in flight at once. Each is one write transaction, so they run one after another on the
 * database's write lock whatever the concurrency; more in flight only queues them longer (a burst
 * that waits past the busy timeout gets 503s, which the agent's retries absorb).
 */
export const ENROL_CONCURRENCY = 16;

/**
 * The stack's settings for a swarm. Every simulated agent enrols from 127.0.0.1, so the per-IP
 * enrolment limit (`RATE_LIMIT_ENROLL_PER_MINUTE`, 60 by default) capped the whole swarm at one
 * enrolment a second and failed the agents whose retries ran out on 429s: the --load-size 200 run's
 * 368 enrolments in 365 s were that limit, and its 32 failures those agents. A fleet enrols from
 * many addresses; the guard against one client is not what the benchmark measures.
 */
export const SWARM_ENV: Record<string, string> = { RATE_LIMIT_ENROLL_PER_MINUTE: "0" };

export interface SwarmIdentity {
  node_id: string;
  api_token: string;
  server: string;
}

export interface SwarmStats {
  execs: number;
  results: number;
  acks: number;
  heartbeats: number;
  frames_in: number;
  errors: number;
  fatal: number;
  first_exec_at: number;
  last_exec_at: number;
  last_result_at: number;
  agents: number;
  ready: number;
  open: number;
  identities: number;
  rss: number;
  heap_used: number;
  error_samples: string[];
}

export class Swarm {
  readonly pid: number;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  private stderr = "";

  private constructor(
    private readonly child: ChildProcess,
    readonly nodeVersion: string,
  ) {
    this.pid = child.pid!;
    child.on("message", (msg: any) => {
      const waiter = this.pending.get(msg.id);
      if (!waiter) return;
      this.pending.delete(msg.id);
      if (msg.ok) waiter.resolve(msg.result);
      else waiter.reject(new Error(`swarm: ${msg.error}`));
    });
    child.on("exit", (code, signal) => {
      for (const w of this.pending.values())
        w.reject(new Error(`swarm exited (${code ?? signal}): ${this.stderr.slice(-2000)}`));
      this.pending.clear();
    });
    child.stderr!.on("data", (c: Buffer) => {
      this.stderr = (this.stderr + c.toString()).slice(-20_000);
    });
  }

  /** Starts the swarm process (Node 20, larger heap for 10k connections). */
  static async start(): Promise<Swarm> {
    const child = spawn(node20(), ["--max-old-space-size=8192", `${BUILD_DIR}/swarm.mjs`], {
      stdio: ["ignore", "ignore", "pipe", "ipc"],
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", UV_THREADPOOL_SIZE: "8" },
    });
    const hello = await new Promise<any>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("swarm did not start within 20 s")), 20_000);
      child.once("message", (msg: any) => {
        clearTimeout(timer);
        resolve(msg.result);
      });
      child.once("exit", (code) => reject(new Error(`swarm exited at start (${code})`)));
    });
    return new Swarm(child, hello.node);
  }

  request<T = any>(type: string, args: Record<string, unknown> = {}, timeoutMs = 30 * 60_000): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`swarm request ${type} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.child.send({ id, type, ...args });
    });
  }

  enroll(key: string, count: number, concurrency: number, timeoutMs: number) {
    return this.request<{ enrolled: number; failed: number; ms: number; latencies: number[]; total: number }>(
      "enroll",
      { key, count, concurrency, timeoutMs },
      timeoutMs + 60_000,
    );
  }

  adopt(identities: SwarmIdentity[]) {
    return this.request("adopt", { identities });
  }

  connect(count: number, options: { heartbeatSeconds?: number; batch?: number; timeoutMs: number }) {
    return this.request<{ ready: number; agents: number; ms: number }>(
      "connect",
      {
        count,
        batch: options.batch ?? SWARM_CONCURRENCY,
        heartbeatSeconds: options.heartbeatSeconds,
        timeoutMs: options.timeoutMs,
      },
      options.timeoutMs + 60_000,
    );
  }

  waitReady(timeoutMs: number) {
    return this.request<{ ready: number; agents: number; ms: number }>(
      "waitReady",
      { timeoutMs },
      timeoutMs + 30_000,
    );
  }

  pingSequential(rounds: number, timeoutMs = 5000, gapMs = 0) {
    return this.request<{ rtts: number[] }>("ping", { sequential: true, rounds, timeoutMs, gapMs });
  }

  pingAll(timeoutMs: number) {
    return this.request<{ rtts: number[]; ms: number }>("ping", { all: true, timeoutMs }, timeoutMs + 30_000);
  }

  pingSome(connections: number, timeoutMs: number) {
    return this.request<{ rtts: number[]; ms: number }>(
      "ping",
      { connections, timeoutMs },
      timeoutMs + 30_000,
    );
  }

  stats() {
    return this.request<SwarmStats>("stats", {}, 60_000);
  }

  resetTotals() {
    return this.request("resetTotals");
  }

  timeline() {
    return this.request<{ closed: number[]; ready: number[] }[]>("timeline");
  }

  /** Wall-clock ms of every reconnection attempt so far. */
  attempts() {
    return this.request<number[]>("attempts");
  }

  identities() {
    return this.request<SwarmIdentity[]>("identities");
  }

  /** Closes every connection and ends the process. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((r) => this.child.once("exit", r));
    await this.request("close", {}, 30_000).catch(() => {});
    this.child.disconnect?.();
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
  }
}
