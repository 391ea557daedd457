// The swarm: one Node process holding N agent connections, built from the agent's REAL code —
// enrolment (agent/enroll.ts), the reconnecting WebSocket with its jittered backoff
// (agent/connection.ts), frame validation and encoding (src/protocol/frames.ts), heartbeat
// payloads (agent/metrics.ts). What it does NOT do like the agent: `exec` is answered in-process
// (ack, then an immediate `result` with exit code 0 and empty output — no journal on disk, no
// `sh -c`). Bundled by bench/run.mjs and run on the agent's Node 20; driven over the IPC channel
// by bench/lib/swarm-client.ts (request → one reply with the same id).
import { randomUUID } from "node:crypto";
import { AgentConnection } from "../../agent/connection";
import { enroll } from "../../agent/enroll";
import type { Logger } from "../../agent/log";
import {
  type AgentCounters,
  agentMetrics,
  createCounters,
  createHostSampler,
  healthChecks,
} from "../../agent/metrics";
import { AGENT_VERSION } from "../../agent/version";
import { decodeKeyBlob } from "../../src/enrollment/key-blob";
import type { HostMetrics, ServerFrame } from "../../src/protocol/frames";

export interface SwarmIdentity {
  node_id: string;
  api_token: string;
  server: string;
}

interface Agent {
  identity: SwarmIdentity;
  conn: AgentConnection;
  counters: AgentCounters;
  heartbeatTimer?: NodeJS.Timeout;
  ready: boolean;
  /** Wall-clock ms of each (re)connection being ready (config frame received). */
  readyAt: number[];
  closedAt: number[];
  pings: Map<string, { sent: number; resolve: (rtt: number) => void }>;
}

const identities: SwarmIdentity[] = [];
const agents: Agent[] = [];
const totals = {
  execs: 0,
  results: 0,
  acks: 0,
  heartbeats: 0,
  frames_in: 0,
  errors: 0,
  fatal: 0,
  first_exec_at: 0,
  last_exec_at: 0,
  last_result_at: 0,
};
let heartbeatSeconds = 15;
let host: HostMetrics | undefined;
const sampler = createHostSampler();
const errorSamples: string[] = [];

/** Wall-clock ms of every reconnection attempt (the agent logs "connecting" before each retry). */
const attempts: number[] = [];

const log: Logger = {
  debug() {},
  info(message) {
    if (message === "connecting" && attempts.length < 200_000) attempts.push(Date.now());
  },
  warn(message, fields) {
    note(`warn ${message} ${JSON.stringify(fields ?? {})}`);
  },
  error(message, fields) {
    totals.errors++;
    note(`error ${message} ${JSON.stringify(fields ?? {})}`);
  },
};
function note(line: string) {
  if (errorSamples.length < 20) errorSamples.push(line.slice(0, 300));
}

async function refreshHost() {
  host = await sampler.sample();
}

function sendHeartbeat(agent: Agent) {
  if (!agent.conn.isOpen || !host) return;
  const sent = agent.conn.send({
    type: "heartbeat",
    host,
    agent: agentMetrics(agent.counters),
    checks: healthChecks(host, 90),
  });
  if (sent) totals.heartbeats++;
  agent.conn.probe();
}

function onFrame(agent: Agent, frame: ServerFrame) {
  totals.frames_in++;
  switch (frame.type) {
    case "config":
      if (!agent.ready) {
        agent.ready = true;
        agent.readyAt.push(Date.now());
      }
      return;
    case "exec": {
      // In-process executor: no shell. Ack, then the result at once (as `true` would report).
      const now = Date.now();
      totals.execs++;
      totals.first_exec_at ||= now;
      totals.last_exec_at = now;
      agent.counters.commands_run++;
      agent.conn.send({ type: "ack", execution_id: frame.execution_id });
      agent.conn.send({
        type: "result",
        execution_id: frame.execution_id,
        exit_code: 0,
        output: "",
        truncated: false,
        started_at: now,
        finished_at: now,
      });
      totals.results++;
      totals.last_result_at = Date.now();
      return;
    }
    case "ack":
      totals.acks++;
      return;
    case "ping":
      agent.conn.send({ type: "pong", id: frame.id, sent_at: frame.sent_at });
      return;
    case "pong": {
      const pending = agent.pings.get(frame.id);
      if (pending) {
        agent.pings.delete(frame.id);
        pending.resolve(performance.now() - pending.sent);
      }
      return;
    }
    case "error":
      totals.errors++;
      note(`server error frame ${frame.code}: ${frame.message}`);
      return;
    default:
      return;
  }
}

function open(identity: SwarmIdentity): Agent {
  const counters = createCounters();
  const agent = {
    identity,
    counters,
    ready: false,
    readyAt: [],
    closedAt: [],
    pings: new Map(),
  } as unknown as Agent;
  agent.conn = new AgentConnection({
    server: identity.server,
    token: identity.api_token,
    log,
    counters,
    onOpen: () => {
      agent.conn.send({
        type: "hello",
        agent_version: AGENT_VERSION,
        hostname: `swarm-${identity.node_id.slice(0, 8)}`,
        platform: process.platform,
        arch: process.arch,
        capabilities: ["exec", "cancel", "output"],
        heartbeat_interval_seconds: heartbeatSeconds,
      });
      sendHeartbeat(agent);
      clearInterval(agent.heartbeatTimer);
      agent.heartbeatTimer = setInterval(() => sendHeartbeat(agent), heartbeatSeconds * 1000);
    },
    onFrame: (frame) => onFrame(agent, frame),
    onDisconnect: () => {
      if (agent.ready) agent.closedAt.push(Date.now());
      agent.ready = false;
      clearInterval(agent.heartbeatTimer);
      for (const p of agent.pings.values()) p.resolve(Number.NaN);
      agent.pings.clear();
    },
    onFatal: (reason, detail) => {
      totals.fatal++;
      note(`fatal ${reason} ${detail}`);
    },
  });
  return agent;
}

/** One application-level ping through the node's Durable Object; resolves the RTT in ms (NaN if lost). */
function ping(agent: Agent, timeoutMs: number): Promise<number> {
  if (!agent.conn.isOpen) return Promise.resolve(Number.NaN);
  const id = randomUUID();
  return new Promise<number>((resolve) => {
    const timer = setTimeout(() => {
      agent.pings.delete(id);
      resolve(Number.NaN);
    }, timeoutMs);
    agent.pings.set(id, {
      sent: performance.now(),
      resolve: (rtt) => {
        clearTimeout(timer);
        resolve(rtt);
      },
    });
    if (!agent.conn.send({ type: "ping", id, sent_at: Date.now() })) {
      clearTimeout(timer);
      agent.pings.delete(id);
      resolve(Number.NaN);
    }
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function pool<T>(items: T[], concurrency: number, work: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) await work(items[next++]);
    }),
  );
}

const readyCount = () => agents.reduce((n, a) => n + (a.ready ? 1 : 0), 0);

type Request = { id: number; type: string; [k: string]: any };

const handlers: Record<string, (req: Request) => Promise<unknown>> = {
  async enroll(req) {
    const blob = decodeKeyBlob(req.key);
    if (!blob) throw new Error("not an enrollment key blob");
    const started = performance.now();
    const deadline = Date.now() + req.timeoutMs;
    let failed = 0;
    const before = identities.length;
    // In the order the enrolments started (a failed one stays NaN): completion order would put the
    // slowest, retried enrolments at the end whatever the cluster's size.
    const latencies: number[] = Array.from({ length: req.count }, () => Number.NaN);
    let begun = 0;
    await pool(
      Array.from({ length: req.count }, () => randomUUID()),
      req.concurrency,
      async (nodeId) => {
        const order = begun++;
        if (Date.now() > deadline) {
          failed++;
          return;
        }
        const t = performance.now();
        try {
          const id = await enroll({ blob, nodeId, idType: "random", log, maxAttempts: 8, retryBaseMs: 500 });
          identities.push({ node_id: id.node_id, api_token: id.api_token, server: id.server });
          latencies[order] = performance.now() - t;
        } catch (error) {
          failed++;
          note(`enrol ${(error as Error).message}`);
        }
      },
    );
    return {
      enrolled: identities.length - before,
      failed,
      ms: performance.now() - started,
      latencies,
      total: identities.length,
    };
  },
  async adopt(req) {
    identities.push(...(req.identities as SwarmIdentity[]));
    return { total: identities.length };
  },
  async connect(req) {
    heartbeatSeconds = req.heartbeatSeconds ?? heartbeatSeconds;
    await refreshHost();
    const started = performance.now();
    const deadline = Date.now() + req.timeoutMs;
    const want = Math.min(req.count, identities.length);
    // Open in waves of `batch`, waiting for each wave to be ready (bounded), like machines booting.
    while (agents.length < want && Date.now() < deadline) {
      const wave = identities.slice(agents.length, Math.min(want, agents.length + req.batch));
      for (const identity of wave) agents.push(open(identity));
      const target = agents.length;
      while (readyCount() < target && Date.now() < deadline) await sleep(20);
    }
    while (readyCount() < want && Date.now() < deadline) await sleep(50);
    return { ready: readyCount(), agents: agents.length, ms: performance.now() - started };
  },
  async waitReady(req) {
    const started = performance.now();
    const deadline = Date.now() + req.timeoutMs;
    while (readyCount() < agents.length && Date.now() < deadline) await sleep(50);
    return { ready: readyCount(), agents: agents.length, ms: performance.now() - started };
  },
  async ping(req) {
    const targets = req.all ? agents : agents.slice(0, req.connections ?? 1);
    const rtts: number[] = [];
    if (req.sequential) {
      for (let i = 0; i < req.rounds; i++) {
        rtts.push(await ping(targets[0], req.timeoutMs));
        if (req.gapMs) await sleep(req.gapMs);
      }
    } else {
      const started = performance.now();
      const all = await Promise.all(targets.map((a) => ping(a, req.timeoutMs)));
      rtts.push(...all);
      return { rtts, ms: performance.now() - started };
    }
    return { rtts };
  },
  async stats() {
    const mem = process.memoryUsage();
    return {
      ...totals,
      agents: agents.length,
      ready: readyCount(),
      open: agents.reduce((n, a) => n + (a.conn.isOpen ? 1 : 0), 0),
      identities: identities.length,
      rss: mem.rss,
      heap_used: mem.heapUsed,
      error_samples: errorSamples.slice(),
    };
  },
  async resetTotals() {
    totals.execs = totals.results = totals.acks = totals.heartbeats = 0;
    totals.first_exec_at = totals.last_exec_at = totals.last_result_at = 0;
    return {};
  },
  async timeline() {
    return agents.map((a) => ({ closed: a.closedAt.slice(), ready: a.readyAt.slice() }));
  },
  async attempts() {
    return attempts.slice();
  },
  async identities() {
    return identities.slice(0, 1_000_000);
  },
  async close() {
    await Promise.all(
      agents.map((a) => {
        clearInterval(a.heartbeatTimer);
        return a.conn.close(1000, "swarm done", 1000);
      }),
    );
    agents.length = 0;
    return {};
  },
};

// Heartbeat payloads share one host sample per second (one machine, N simulated agents).
setInterval(() => void refreshHost(), 1000).unref();

process.on("message", async (req: Request) => {
  try {
    const handler = handlers[req.type];
    if (!handler) throw new Error(`unknown request ${req.type}`);
    const result = await handler(req);
    process.send?.({ id: req.id, ok: true, result });
  } catch (error) {
    process.send?.({ id: req.id, ok: false, error: (error as Error).stack ?? String(error) });
  }
});
process.on("disconnect", () => process.exit(0));
process.send?.({ id: 0, ok: true, result: { pid: process.pid, node: process.version } });
