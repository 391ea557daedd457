// AgentRuntime in-process: real journal, lock, status file and dispatcher in a temp state dir;
// a fake connection, a hand-driven clock and an EventEmitter for signals, so the lifecycle
// (hello, heartbeats, config, shutdown order, exit codes) is tested without spawning Node.
import { EventEmitter } from "node:events";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { ConnectionOptions, OutgoingFrame } from "../../../agent/connection";
import type { Identity } from "../../../agent/identity";
import { Journal } from "../../../agent/journal";
import { acquireLock } from "../../../agent/lock";
import { createLogger } from "../../../agent/log";
import { AgentRuntime, type Connection, SHUTDOWN_TIMEOUT_MS } from "../../../agent/runtime";
import { EXIT_RESTART, selfUpdateSettings } from "../../../agent/self-update";
import type { ServerFrame } from "../../../src/protocol/frames";
import { FakeClock } from "./fake-clock";
import { tempDir } from "./helpers";

const identity: Identity = {
  node_id: "6f1d5e0c-3b8a-4c55-9a4e-0b7e2f1a9c3d",
  id_type: "random",
  server: "http://127.0.0.1:9",
  api_token: "node-token-1",
  cluster_name: "edge-a",
  enrolled_at: "2026-12-01T00:00:00.000Z",
};

type WithoutVersion<T> = T extends unknown ? Omit<T, "v"> : never;

/** Stands in for AgentConnection: records frames and the close, and lets the test play the server. */
class FakeConnection implements Connection {
  isOpen = false;
  readonly sent: OutgoingFrame[] = [];
  closed: { code?: number; reason?: string } | null = null;
  probes = 0;
  /** Set to keep close() pending forever (a server that never finishes the closing handshake). */
  hang = false;

  constructor(
    readonly options: ConnectionOptions,
    private readonly events: string[],
  ) {}

  open(): void {
    this.isOpen = true;
    this.options.onOpen();
  }

  receive(frame: WithoutVersion<ServerFrame>): void {
    this.options.onFrame({ v: 1, ...frame } as ServerFrame);
  }

  send(frame: OutgoingFrame): boolean {
    if (!this.isOpen) return false;
    this.sent.push(frame);
    return true;
  }

  probe(): void {
    this.probes++;
  }

  close(code?: number, reason?: string): Promise<void> {
    this.events.push("connection closed");
    this.closed = { code, reason };
    this.isOpen = false;
    return this.hang ? new Promise(() => {}) : Promise.resolve();
  }

  framesOf<T extends OutgoingFrame["type"]>(type: T): Extract<OutgoingFrame, { type: T }>[] {
    return this.sent.filter((f): f is Extract<OutgoingFrame, { type: T }> => f.type === type);
  }
}

const started: AgentRuntime[] = [];
afterEach(async () => {
  // Whatever a test left running stops, so no real timer or child outlives it.
  await Promise.all(started.splice(0).map((runtime) => runtime.stop()));
});

async function startRuntime(heartbeatIntervalSeconds = 15) {
  const stateDir = await tempDir("outpost-runtime-test-");
  const events: string[] = [];
  const logLines: string[] = [];
  const log = createLogger("debug", (line) => void logLines.push(line), false);
  const lock = await acquireLock(stateDir);
  const clock = new FakeClock();
  const signals = new EventEmitter();
  const forced: number[] = [];
  let connection: FakeConnection | undefined;
  const runtime = new AgentRuntime(
    {
      config: {
        stateDir,
        idType: "random",
        heartbeatIntervalSeconds,
        logLevel: "debug",
        enrollment: null,
        machineIdFile: null,
        outputLimitBytes: 1024 * 1024,
        inventory: { intervalSeconds: 3600, includeUsers: true },
        diskCheckPercent: 95,
        allowInsecureHttp: false,
      },
      log,
      selfUpdate: selfUpdateSettings({}),
      lock: {
        release: async () => {
          await lock.release();
          events.push("lock released");
        },
      },
      identity,
      journal: await Journal.open(stateDir, { log }),
    },
    {
      clock,
      signals,
      forceExit: (code) => void forced.push(code),
      bundle: null,
      connect: (options) => {
        connection = new FakeConnection(options, events);
        return connection;
      },
    },
  );
  started.push(runtime);
  await runtime.start();
  if (!connection) throw new Error("start() did not connect");
  const readStatus = async () => JSON.parse(await readFile(join(stateDir, "status.json"), "utf8"));
  return { runtime, connection, clock, signals, forced, events, logLines, stateDir, readStatus };
}

const until = async (check: () => boolean, what: string, timeoutMs = 2000) => {
  for (let i = 0; i < timeoutMs / 10 && !check(); i++)
    await new Promise((resolve) => setTimeout(resolve, 10));
  if (!check()) throw new Error(`timed out waiting for ${what}`);
};

describe("AgentRuntime", () => {
  it("declares its shutdown order: timers, commands, connection, status, lock", async () => {
    const { runtime } = await startRuntime();
    expect(runtime.shutdownSteps).toEqual(["timers", "commands", "connection", "status", "lock"]);
  });

  it("says hello on open, then heartbeats on the clock and probes the socket", async () => {
    const { connection, clock } = await startRuntime(15);
    connection.open();
    expect(connection.framesOf("hello")[0]).toMatchObject({
      agent_version: expect.any(String),
      capabilities: [
        "exec",
        "cancel",
        "output",
        "self_update",
        "inventory.v1",
        "metrics_stream.v1",
        "processes.v1",
        "logs.v1",
        "files.v1",
        "files.v3",
      ],
      heartbeat_interval_seconds: 15,
    });
    await until(() => connection.framesOf("heartbeat").length === 1, "the heartbeat sent on open");
    expect(connection.framesOf("ping")).toHaveLength(1);
    clock.advance(14_999);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(connection.framesOf("heartbeat")).toHaveLength(1);
    clock.advance(1);
    await until(() => connection.framesOf("heartbeat").length === 2, "the timed heartbeat");
    // One application ping a minute, not one per heartbeat.
    expect(connection.framesOf("ping")).toHaveLength(1);
    expect(connection.probes).toBe(2);
  });

  it("heartbeats carry the fuller metrics; the detail sections come in their own frame", async () => {
    const { connection } = await startRuntime(15);
    connection.open();
    await until(() => connection.framesOf("heartbeat").length === 1, "the heartbeat sent on open");
    const heartbeat = connection.framesOf("heartbeat")[0] as {
      system?: Record<string, { available: boolean }>;
    };
    expect(Object.keys(heartbeat.system ?? {})).toEqual([
      "cpu",
      "memory",
      "mounts",
      "disk_io",
      "network",
      "sockets",
      "temperatures",
    ]);
    await until(
      () => connection.framesOf("metrics_detail").length === 1,
      "the first detail sections",
      15_000,
    );
  }, 20_000);

  it("samples at a live stream's interval while the server asks, and stops when told", async () => {
    const { connection, clock } = await startRuntime(15);
    connection.open();
    connection.receive({ type: "metrics_stream", interval_seconds: 2 });
    await until(() => connection.framesOf("metrics").length === 1, "the first stream sample at once");
    clock.advance(2000);
    await until(() => connection.framesOf("metrics").length === 2, "a sample 2 s later");
    connection.receive({ type: "metrics_stream", interval_seconds: null });
    clock.advance(10_000);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(connection.framesOf("metrics")).toHaveLength(2);
  }, 20_000);

  it("follows the server's heartbeat interval and cluster from a config frame", async () => {
    const { runtime, connection, clock, stateDir } = await startRuntime(15);
    connection.open();
    connection.receive({
      type: "config",
      node_id: identity.node_id,
      cluster_name: "edge-b",
      heartbeat_interval_seconds: 5,
    });
    await until(() => runtime.heartbeatMs === 5000, "the new interval");
    await until(() => connection.framesOf("heartbeat").length === 1, "the heartbeat sent on open");
    clock.advance(5000);
    await until(() => connection.framesOf("heartbeat").length === 2, "a heartbeat 5 s later");
    const saved = JSON.parse(await readFile(join(stateDir, "identity.json"), "utf8"));
    expect(saved.cluster_name).toBe("edge-b");
  });

  it("clamps a server-sent heartbeat interval to 5-3600 s, or to the operator's own shorter one (review L6)", async () => {
    const { runtime, connection } = await startRuntime(15);
    connection.open();
    const config = (seconds: number) =>
      connection.receive({
        type: "config",
        node_id: identity.node_id,
        cluster_name: identity.cluster_name,
        heartbeat_interval_seconds: seconds,
      });
    config(2 ** 31);
    await until(() => runtime.heartbeatMs === 3600_000, "the interval capped at an hour");
    config(1);
    await until(() => runtime.heartbeatMs === 5000, "the interval raised to 5 s");
    const own = await startRuntime(1);
    own.connection.open();
    own.connection.receive({
      type: "config",
      node_id: identity.node_id,
      cluster_name: identity.cluster_name,
      heartbeat_interval_seconds: 1,
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(own.runtime.heartbeatMs).toBe(1000);
  });

  it("saves a rotated token before answering token_stored, and dials with it from then on", async () => {
    const { connection, stateDir } = await startRuntime();
    connection.open();
    connection.receive({ type: "token_rotated", api_token: "rotated-token" });
    await until(() => connection.framesOf("token_stored").length === 1, "token_stored");
    const saved = JSON.parse(await readFile(join(stateDir, "identity.json"), "utf8"));
    expect(saved.api_token).toBe("rotated-token");
    expect(connection.options.currentToken?.()).toBe("rotated-token");
  });

  it("answers a server ping with a pong", async () => {
    const { connection } = await startRuntime();
    connection.open();
    connection.receive({ type: "ping", id: "p-1", sent_at: 42 });
    expect(connection.framesOf("pong")).toEqual([{ type: "pong", id: "p-1", sent_at: 42 }]);
  });

  it("on SIGTERM runs the steps in order and exits 0: timers off, socket closed 1000, status stopped, lock freed", async () => {
    const { runtime, connection, clock, signals, events, stateDir, readStatus } = await startRuntime();
    connection.open();
    signals.emit("SIGTERM");
    expect(await runtime.stopped).toBe(0);
    expect(events).toEqual(["connection closed", "lock released"]);
    expect(connection.closed).toEqual({ code: 1000, reason: "agent shutting down" });
    expect(clock.pending).toBe(0);
    expect(await readStatus()).toMatchObject({ connection: "stopped", connected_since: null });
    await expect(stat(join(stateDir, "agent.pid"))).rejects.toThrow(/ENOENT/);
  });

  it("stops a running command and journals its result before the socket closes", async () => {
    const { runtime, connection, events, signals } = await startRuntime();
    connection.open();
    connection.receive({ type: "exec", execution_id: "e-1", command: "sleep 30", timeout_ms: null });
    await until(() => connection.framesOf("ack").length === 1, "the exec ack");
    await new Promise((resolve) => setTimeout(resolve, 100));
    signals.emit("SIGTERM");
    expect(await runtime.stopped).toBe(0);
    expect(events).toEqual(["connection closed", "lock released"]);
    const result = connection.framesOf("result").find((f) => f.execution_id === "e-1");
    // Sent while the socket was still open, as exit 125 ("the agent stopped…").
    expect(result?.exit_code).toBe(125);
  });

  it("exits 4 when the node was deleted and 5 when the token is refused", async () => {
    const deleted = await startRuntime();
    deleted.connection.options.onFatal("node_deleted", "gone");
    expect(await deleted.runtime.stopped).toBe(4);
    expect(deleted.logLines.join("")).toContain("this node was deleted from Outpost; exiting");
    expect(deleted.events).toEqual(["connection closed", "lock released"]);

    const refused = await startRuntime();
    refused.connection.options.onFatal("unauthorized", "HTTP 401 on upgrade");
    expect(await refused.runtime.stopped).toBe(5);
  });

  it("stops with EXIT_RESTART for a self-update; the first reason wins", async () => {
    const { runtime, signals, logLines } = await startRuntime();
    const code = runtime.stop(EXIT_RESTART);
    signals.emit("SIGTERM");
    expect(await code).toBe(EXIT_RESTART);
    expect(await runtime.stopped).toBe(EXIT_RESTART);
    expect(logLines.join("")).toContain("stopping for a restart");
  });

  it("gives up on a hung step after the budget, still with its exit code", async () => {
    const { runtime, connection, clock, signals, events, logLines } = await startRuntime();
    connection.open();
    connection.hang = true;
    signals.emit("SIGTERM");
    await until(() => events.includes("connection closed"), "the close");
    clock.advance(SHUTDOWN_TIMEOUT_MS);
    expect(await runtime.stopped).toBe(0);
    expect(events).not.toContain("lock released");
    expect(logLines.join("")).toContain("graceful shutdown timed out; exiting anyway step=connection");
  });

  it("exits 130 at once on a second Ctrl-C", async () => {
    const { runtime, connection, clock, signals, forced } = await startRuntime();
    connection.open();
    connection.hang = true;
    signals.emit("SIGINT");
    expect(forced).toEqual([]);
    signals.emit("SIGINT");
    expect(forced).toEqual([130]);
    // The fake exit returned; let the hung stop run out so nothing outlives the test.
    clock.advance(SHUTDOWN_TIMEOUT_MS);
    expect(await runtime.stopped).toBe(0);
  });
});
