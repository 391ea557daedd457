import { hostname } from "node:os";
import type { ServerFrame } from "../src/protocol/frames";
import { INVENTORY_CAPABILITY } from "../src/protocol/inventory-frames";
import { AGENT_REACH_CAPABILITIES } from "../src/protocol/reach-methods";
import { METRICS_STREAM_CAPABILITY } from "../src/protocol/system-metrics";
import type { AgentConfig } from "./config";
import { AgentConnection, type ConnectionOptions, type FatalReason, type OutgoingFrame } from "./connection";
import { Dispatcher } from "./dispatcher";
import { EXIT } from "./exit-codes";
import { type Identity, identityPath, saveIdentity } from "./identity";
import { type Clock, Interval, systemClock } from "./interval";
import { type HostFacts, hostFacts } from "./inventory/facts";
import { InventoryReporter } from "./inventory/reporter";
import type { Journal } from "./journal";
import { randomUUID } from "./light-crypto";
import type { Logger } from "./log";
import { MemoryRelease } from "./memory-release";
import { type AgentCounters, agentMetrics, createCounters, createHostSampler, healthChecks } from "./metrics";
import { reachPolicy } from "./rpc/policy";
import { RpcServer } from "./rpc/server";
import { EXIT_RESTART, runningBundle, SelfUpdater, type SelfUpdateSettings } from "./self-update";
import { ShutdownManager, type SignalSource } from "./shutdown";
import { StatusFile } from "./status";
import { SystemReporter } from "./system-metrics/reporter";
import type { SystemSampler } from "./system-metrics/sampler";
import { clampServerHeartbeat } from "./transport";
import { AGENT_VERSION } from "./version";

/** How often the agent measures its round trip to the server (`outpost-agent status`). */
const PING_EVERY_MS = 60_000;

/** How often finished journal entries are swept. */
const SWEEP_EVERY_MS = 60_000;

/** Overall budget for a graceful stop: SIGKILL grace for commands (5 s) + drain + close. */
export const SHUTDOWN_TIMEOUT_MS = 10_000;

/** What the runtime needs from its connection; AgentConnection in production, a fake in tests. */
export type Connection = Pick<AgentConnection, "isOpen" | "send" | "probe" | "close"> &
  Partial<Pick<AgentConnection, "sendBytes" | "drained">>;

/** What the agent holds before it runs: opened by runAgent (./run.ts), or by a test. */
export interface RuntimeParts {
  config: AgentConfig;
  log: Logger;
  selfUpdate: SelfUpdateSettings;
  /** The state dir's pid lock, released as the last shutdown step. */
  lock: { release(): Promise<void> };
  identity: Identity;
  /** Already recovered and swept. */
  journal: Journal;
}

/** Seams for tests; every default is the real thing. */
export interface RuntimeDeps {
  clock?: Clock;
  /** Where SIGTERM/SIGINT come from (default `process`). */
  signals?: SignalSource;
  /** Exits at once on a second Ctrl-C (default `process.exit`). */
  forceExit?: (code: number) => void;
  connect?: (options: ConnectionOptions) => Connection;
  /** The running bundle file self-updates replace (default: this bundle, null unbundled). */
  bundle?: string | null;
  counters?: AgentCounters;
  /** Where the reach-in policy is read from (default `process.env`). */
  env?: NodeJS.ProcessEnv;
  /** The full GC run after a burst of work (default `globalThis.gc`, present with --expose-gc). */
  gc?: () => void;
}

/**
 * `outpost-agent run` once enrolled: hello, heartbeats, commands, until stop() — from SIGTERM or
 * SIGINT (exit 0), a deleted node (4), a refused token (5) or a self-update (EXIT_RESTART).
 * The lifecycle follows trigger.dev's ManagedSupervisor: the constructor wires, start() starts,
 * and stopping runs the named steps of a ShutdownManager in the order declared below.
 * @example const runtime = new AgentRuntime(parts); await runtime.start(); const code = await runtime.stopped;
 */
export class AgentRuntime {
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly counters: AgentCounters;
  private readonly sampler = createHostSampler();
  private readonly status: StatusFile;
  private readonly dispatcher: Dispatcher;
  private readonly updater: SelfUpdater;
  private readonly heartbeat: Interval;
  private readonly memory: MemoryRelease;
  private readonly sweep: Interval;
  private readonly shutdown: ShutdownManager;
  private readonly inventory: InventoryReporter;
  private readonly system: SystemReporter;
  private systemSampler: SystemSampler | undefined;
  private readonly rpc: RpcServer;
  private facts: HostFacts | undefined;
  private identity: Identity;
  private connection: Connection | undefined;
  private lastPingAt = 0;

  constructor(
    private readonly parts: RuntimeParts,
    private readonly deps: RuntimeDeps = {},
  ) {
    const { config, log, journal } = parts;
    this.log = log;
    this.clock = deps.clock ?? systemClock;
    this.identity = parts.identity;
    this.counters = deps.counters ?? createCounters(config.stateDir);
    this.status = new StatusFile(
      config.stateDir,
      {
        pid: process.pid,
        version: AGENT_VERSION,
        node_id: this.identity.node_id,
        cluster_name: this.identity.cluster_name,
        server: this.identity.server,
        connection: "connecting",
        connected_since: null,
        last_heartbeat_at: null,
        started_at: new Date().toISOString(),
      },
      (error) => log.warn("cannot write the status file", { problem: error.message }),
    );
    this.memory = new MemoryRelease(deps.gc ?? (globalThis as { gc?: () => void }).gc, this.clock);
    const send = (frame: OutgoingFrame) => this.send(frame);
    this.dispatcher = new Dispatcher({
      journal,
      send,
      log,
      counters: this.counters,
      outputLimitBytes: config.outputLimitBytes,
    });
    this.updater = new SelfUpdater({
      stateDir: config.stateDir,
      bundle: deps.bundle === undefined ? runningBundle() : deps.bundle,
      version: AGENT_VERSION,
      settings: parts.selfUpdate,
      log,
      send,
      requestRestart: () => void this.stop(EXIT_RESTART),
    });
    this.rpc = new RpcServer(reachPolicy(deps.env ?? process.env, config.stateDir), send, log, {
      send: (frame, written) => this.connection?.sendBytes?.(frame, written) ?? false,
      drained: () => this.connection?.drained?.() ?? Promise.resolve(),
    });
    this.inventory = new InventoryReporter({ send, log, settings: config.inventory, clock: this.clock });
    this.heartbeat = new Interval(() => void this.tick(), config.heartbeatIntervalSeconds * 1000, this.clock);
    this.system = new SystemReporter({
      // Loaded on the first sample: the collectors' code stays out of the agent until it is needed.
      sampler: async () => {
        this.systemSampler ??= new (await import("./system-metrics/sampler")).SystemSampler();
        return this.systemSampler;
      },
      host: () => this.sampler.sample(),
      send,
      clock: this.clock,
      onError: (error) => log.warn("live metrics sample failed", { problem: error.message }),
    });
    this.sweep = new Interval(
      () =>
        void journal
          .sweep()
          .catch((error) => log.warn("journal sweep failed", { problem: (error as Error).message })),
      SWEEP_EVERY_MS,
      this.clock,
    );
    this.shutdown = new ShutdownManager({
      log,
      timeoutMs: SHUTDOWN_TIMEOUT_MS,
      clock: this.clock,
      // A completed stop on SIGTERM is a clean stop (`systemctl stop`): the unit has no
      // SuccessExitStatus=143, and tests pin exit 0. A second Ctrl-C still exits 130.
      exitCodeForSignal: () => EXIT.ok,
    });
    this.registerShutdownSteps();
  }

  /** Resolves with the process exit code once the runtime has stopped. */
  get stopped(): Promise<number> {
    return this.shutdown.finished;
  }

  /** The shutdown steps, in the order they run (for tests and logs). */
  get shutdownSteps(): string[] {
    return this.shutdown.stepNames;
  }

  /** The heartbeat period now in force (the server's config frame may change it). */
  get heartbeatMs(): number {
    return this.heartbeat.periodMs;
  }

  /** Writes the status file, reads the self-update marker, wires signals, starts timers and connects. */
  async start(): Promise<void> {
    await this.status.update({});
    await this.updater.start();
    // Read before connecting, so the hello (sent synchronously on open) carries them.
    this.facts = await hostFacts().catch(() => undefined);
    this.inventory.start();
    this.heartbeat.start();
    this.sweep.start();
    // Wired for the rest of the process: after a stop for a self-update, the watchdog
    // (self-update/trial.ts) must not die of a SIGTERM while it restores a bundle.
    this.shutdown.handleSignals(this.deps.signals, this.deps.forceExit);
    const { identity, log } = this;
    log.info("starting", { version: AGENT_VERSION, node_id: identity.node_id, server: identity.server });
    const connect = this.deps.connect ?? ((options) => new AgentConnection(options));
    this.connection = connect({
      server: identity.server,
      token: identity.api_token,
      // A rotated token (token_rotated) is used from the next reconnect on.
      currentToken: () => this.identity.api_token,
      log,
      counters: this.counters,
      onOpen: () => this.onOpen(),
      onFrame: (frame) => this.onFrame(frame),
      onBinary: (message) => this.rpc.binary(message),
      onDisconnect: () => {
        this.system.stop();
        this.rpc.stopAll();
        void this.status.update({ connection: "disconnected", connected_since: null });
      },
      onFatal: (reason, detail) => this.onFatal(reason, detail),
    });
  }

  /** Stops gracefully with `code`; the first call wins, later ones share its result. */
  stop(code: number = EXIT.ok): Promise<number> {
    if (!this.shutdown.isShuttingDown && code === EXIT_RESTART) this.log.info("stopping for a restart");
    return this.shutdown.shutdown({ code });
  }

  // The order of a graceful stop. Commands stop before the socket closes so their results are
  // journaled (and re-sent after the next start); the lock goes last so no second agent starts
  // while this one still writes.
  private registerShutdownSteps(): void {
    const { shutdown, log } = this;
    shutdown.register("timers", () => {
      this.heartbeat.stop();
      this.sweep.stop();
      this.inventory.stop();
      this.system.stop();
      this.memory.stop();
    });
    shutdown.register("commands", async () => {
      const running = this.dispatcher.runningIds.length;
      if (running > 0)
        log.warn("stopping running commands; they are reported as interrupted", { count: running });
      await this.dispatcher.stopAll();
    });
    shutdown.register("connection", () => this.connection?.close(1000, "agent shutting down"));
    shutdown.register("status", () => this.status.update({ connection: "stopped", connected_since: null }));
    shutdown.register("lock", () => this.parts.lock.release());
  }

  private send(frame: OutgoingFrame): boolean {
    const sent = this.connection?.send(frame) ?? false;
    // Only work that went out is a burst to clean up after (a heartbeat tried offline is not).
    if (sent) this.memory.sent(frame.type);
    return sent;
  }

  private onOpen(): void {
    this.send({
      type: "hello",
      agent_version: AGENT_VERSION,
      hostname: hostname(),
      platform: process.platform,
      arch: process.arch,
      ...(this.facts ? helloFacts(this.facts) : {}),
      capabilities: [
        "exec",
        "cancel",
        "output",
        "self_update",
        INVENTORY_CAPABILITY,
        METRICS_STREAM_CAPABILITY,
        ...AGENT_REACH_CAPABILITIES,
      ],
      heartbeat_interval_seconds: this.heartbeat.periodMs / 1000,
    });
    // The primary address or the OS may change while the agent runs; the next hello has them fresh.
    void hostFacts()
      .then((facts) => {
        this.facts = facts;
      })
      .catch(() => undefined);
    void this.status.update({ connection: "connected", connected_since: new Date().toISOString() });
    this.updater.onConnected();
    this.background(
      "re-sending results",
      this.dispatcher.resendUnacknowledged().then((count) => {
        if (count > 0) this.log.info("re-sent unacknowledged results", { count });
      }),
    );
    void this.tick();
  }

  private onFrame(frame: ServerFrame): void {
    switch (frame.type) {
      case "exec":
        this.background("exec", this.dispatcher.exec(frame));
        break;
      case "cancel":
        this.background("cancel", this.dispatcher.cancel(frame));
        break;
      case "ack":
        this.background("ack", this.dispatcher.acknowledged(frame.execution_id));
        break;
      case "config":
        this.background("config", this.onConfig(frame));
        break;
      case "ping":
        this.send({ type: "pong", id: frame.id, sent_at: frame.sent_at });
        break;
      case "pong":
        void this.status.update({ server_rtt_ms: Math.max(0, this.clock.now() - frame.sent_at) });
        break;
      case "error":
        this.counters.errors++;
        this.log.warn("the server reported an error", { code: frame.code, message: frame.message });
        break;
      case "self_update":
        this.background("self_update", this.updater.handle(frame));
        break;
      case "inventory_request":
        this.inventory.request(frame);
        break;
      case "inventory_ack":
        this.inventory.acknowledge(frame);
        break;
      case "token_rotated":
        this.background("token_rotated", this.onTokenRotated(frame.api_token));
        break;
      case "metrics_stream":
        this.system.stream(frame.interval_seconds);
        break;
      case "rpc":
        this.background("rpc", this.rpc.call(frame));
        break;
      case "stream_start":
        this.background("stream", this.rpc.startStream(frame));
        break;
      case "stream_credit":
        this.rpc.credit(frame);
        break;
      case "stream_data":
        this.rpc.data(frame);
        break;
      case "stream_stop":
        this.rpc.stopStream(frame.stream_id);
        break;
      default: {
        // A frame type added to the catalog must be handled here; the compiler says so.
        const unhandled: never = frame;
        this.log.warn("ignoring a frame type this agent does not handle", {
          type: (unhandled as { type: string }).type,
        });
      }
    }
  }

  /** Saves a rotated token before acknowledging it: the server has already forgotten the old one. */
  private async onTokenRotated(apiToken: string): Promise<void> {
    this.identity = { ...this.identity, api_token: apiToken };
    await saveIdentity(this.parts.config.stateDir, this.identity);
    this.send({ type: "token_stored" });
    this.log.info("API token rotated by the server and saved");
  }

  private async onConfig(frame: Extract<ServerFrame, { type: "config" }>): Promise<void> {
    const { config } = this.parts;
    await this.updater.onServerAnswered();
    if (frame.node_id !== this.identity.node_id) {
      this.log.warn("server config names another node id", {
        ours: this.identity.node_id,
        theirs: frame.node_id,
      });
    }
    if (frame.cluster_name !== this.identity.cluster_name) {
      this.identity = { ...this.identity, cluster_name: frame.cluster_name };
      await saveIdentity(config.stateDir, this.identity);
      void this.status.update({ cluster_name: frame.cluster_name });
      this.log.info("cluster changed", { cluster: frame.cluster_name });
    }
    // The server's stale window is computed from its interval; follow it, within bounds (Node
    // fires an interval above 2^31 ms every millisecond).
    if (frame.metrics_detail_interval_seconds)
      this.system.setDetailInterval(frame.metrics_detail_interval_seconds);
    const seconds = clampServerHeartbeat(frame.heartbeat_interval_seconds, config.heartbeatIntervalSeconds);
    if (seconds !== null && seconds * 1000 !== this.heartbeat.periodMs) {
      this.heartbeat.setPeriod(seconds * 1000);
      this.log.info("heartbeat interval set by the server", { seconds });
    }
  }

  private onFatal(reason: FatalReason, detail: string): void {
    if (reason === "node_deleted") {
      this.log.error("this node was deleted from Outpost; exiting", { detail });
      void this.stop(EXIT.nodeDeleted);
      return;
    }
    this.log.error(
      `the server refused this node's API token (revoked?); exiting. To enrol again, remove ${identityPath(this.parts.config.stateDir)} and start with a new ENROLLMENT_KEY`,
      { detail },
    );
    void this.stop(EXIT.unauthorized);
  }

  private tick(): Promise<void> {
    return this.sendHeartbeat().catch((error) =>
      this.log.warn("heartbeat failed", { problem: (error as Error).message }),
    );
  }

  private async sendHeartbeat(): Promise<void> {
    const connection = this.connection;
    if (!connection?.isOpen) return;
    const [host, system] = await Promise.all([this.sampler.sample(), this.system.sample()]);
    const sent = this.send({
      type: "heartbeat",
      host,
      agent: agentMetrics(this.counters),
      checks: [...healthChecks(host, this.parts.config.diskCheckPercent), ...this.updater.checks()],
      system,
    });
    if (sent) void this.status.update({ last_heartbeat_at: new Date().toISOString() });
    // About once a minute, an application ping through the node's session: `status` shows its round trip.
    if (sent && this.clock.now() - this.lastPingAt >= PING_EVERY_MS) {
      this.lastPingAt = this.clock.now();
      this.send({ type: "ping", id: randomUUID(), sent_at: this.lastPingAt });
    }
    connection.probe();
  }

  private background(what: string, work: Promise<unknown>): void {
    void work.catch((error) => {
      this.counters.errors++;
      this.log.error(`${what} failed`, { problem: (error as Error).message });
    });
  }
}

function helloFacts(facts: HostFacts) {
  return {
    os_version: facts.os_version,
    kernel: facts.kernel,
    primary_ip: facts.primary_ip,
    boot_id: facts.boot_id,
  };
}
