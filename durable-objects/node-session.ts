import { type Connection, type ConnectionContext, Server, type WSMessage } from "partyserver";
import { type Env, loadConfig } from "../src/config";
import { createDatabase, type Database } from "../src/db/client";
import { isTransientDbError } from "../src/db/errors";
import { retryTransient } from "../src/db/retry";
import type { ClaimedExecution } from "../src/executions/lifecycle";
import { createLogger, type Logger } from "../src/log";
import type { HistoryQuery, HistoryRows } from "../src/metrics-history/query";
import type { SystemSnapshot } from "../src/node-metrics/system-present";
import type { MetricsSample } from "../src/nodes/metrics-sample";
import type { NodeStatus } from "../src/nodes/status";
import {
  type AgentFrame,
  CLOSE_CODES,
  encodeServerFrame,
  type Outgoing,
  type ServerFrame,
} from "../src/protocol/frames";
import type { MethodParams, MethodResult, ReachMethod, StreamParams } from "../src/protocol/reach-methods";
import { writeLastSeen, writeStatus } from "./batch-writer";
import {
  type ClusterSettings,
  clusterSettingsByName,
  configFrame,
  nodeClusterSettings,
} from "./node-session/agent-config";
import { forgetCachedRules, type RulesClock } from "./node-session/alerts";
import { heldSlot, markHeard, rulesClock } from "./node-session/attachment";
import { deliverExecutions, finalState, isLiveExecution, sendExec } from "./node-session/delivery";
import { AgentUploads } from "./node-session/file-upload";
import { FrameBudget } from "./node-session/frame-budget";
import { type FrameSession, handleAgentFrame, streamsMetrics } from "./node-session/frames";
import { askForInventory, type InventoryAsk } from "./node-session/inventory";
import { InventoryChunks } from "./node-session/inventory-chunks";
import { LiveOutput } from "./node-session/live-output";
import { LogTails } from "./node-session/log-tail";
import { MetricsStreams } from "./node-session/metrics-streams";
import { MetricsTiers, queryHistory } from "./node-session/metrics-tiers";
import { driveFromNow } from "./node-session/orchestrations";
import { OutputGate } from "./node-session/output-gate";
import { arrive } from "./node-session/paced-frames";
import {
  LAST_SEEN_WRITE_INTERVAL_MS,
  observe,
  type PresenceState,
  readPresence,
} from "./node-session/presence";
import { NodeReach } from "./node-session/reach-calls";
import { NODE_ID_HEADER, streamedExecution, streamedMetrics } from "./node-session/requests";
import { PendingRpcs, type RpcOutcome } from "./node-session/rpc";
import { type BufferedSample, type HeldSlot, SampleBuffer } from "./node-session/sample-buffer";
import { SessionAlarm } from "./node-session/session-alarm";
import { METRICS_HISTORY_LIMIT, SessionStore } from "./node-session/store";
import { AgentStreams } from "./node-session/streams";
import {
  dueLatestMetrics,
  keepSystem,
  latestMetricsDue,
  latestSystem,
  rememberDetail,
} from "./node-session/system-snapshot";
import { ExecutionWaiters, type SettledExecution } from "./node-session/waiters";

// The binding is declared beside its class, so src/config.ts types it without importing this file.
declare module "../src/config" {
  interface Env {
    /** One NodeSession per node (`idFromName(node_id)`). */
    NODE_SESSION?: DurableObjectNamespace<NodeSession>;
  }
}

const MAX_INVALID_FRAMES = 20;

/** The node's latest heartbeat sample and recent history, newest first (`NodeSession.metrics`). */
export interface NodeMetrics {
  latest: MetricsSample | null;
  history: MetricsSample[];
}

/** What the session knows about its agent's connection (`NodeSession.state`). */
export interface SessionState {
  connected: boolean;
  presence: PresenceState;
  samples: number;
  /** Executions whose live output (or subscribers) this object holds in memory. */
  live_outputs: number;
  /** Open live-output streams. */
  streams: number;
  /** Open live metrics streams. */
  metrics_streams: number;
  /** Executions a synchronous command waits for here (`pushAndAwait`). */
  sync_waiters: number;
  connection_log: ReturnType<SessionStore["connectionLog"]>;
}

/**
 * One per node (`idFromName(node_id)`): holds the agent's WebSocket with the
 * hibernation API, tracks presence and status, keeps the node's metrics. The
 * handlers stay thin; the logic lives in `./node-session/*` (frames in `frames.ts`). The Worker calls it
 * through typed RPC methods; `fetch` carries only the agent's upgrade and the
 * live-output stream (`./node-session/requests`).
 */
export class NodeSession extends Server<Env> {
  static options = { hibernate: true };

  #store?: SessionStore;
  #tiers?: MetricsTiers;
  #inventoryChunks?: InventoryChunks;
  #db?: Database;
  #log?: Logger;
  #frames?: FrameSession;
  #invalidFrames = 0;
  /** Each open connection's frame budget (`NODE_FRAME_RATE`, `NODE_FRAME_BURST`). */
  readonly #budgets = new Map<string, FrameBudget>();
  // Frames are handled one at a time, in arrival order: a handler awaits libSQL,
  // and a later heartbeat must not act on presence state an earlier one is still changing.
  #queue: Promise<void> = Promise.resolve();
  readonly #liveOutput = new LiveOutput();
  // Live metrics streams (`./node-session/metrics-streams`): the agent samples at the shortest
  // interval an open stream asked for, and stops with the last one.
  readonly #metricsStreams = new MetricsStreams({
    nodeId: () => this.name,
    store: () => this.store,
    liveConnection: () => this.#liveConnection(),
    flushSamples: () => this.#samples.flush(),
  });
  readonly #rpcs = new PendingRpcs();
  readonly #streams = new AgentStreams();
  readonly #uploads = new AgentUploads();
  readonly #logTails = new LogTails(this.#streams);
  readonly #outputGate = new OutputGate((id) => isLiveExecution(this.#database(), this.name, id));
  readonly #samples = new SampleBuffer(
    (samples) => this.#storeSamples(samples),
    () => this.#heldSlots(),
  );
  readonly #waiters = new ExecutionWaiters();
  #reachCalls?: NodeReach;
  #alarmCalls?: SessionAlarm;

  get store(): SessionStore {
    if (!this.#store) {
      this.#store = new SessionStore(this.ctx.storage.sql);
      // Samples held in an attachment are heard, not yet stored: presence and sample times count them.
      const held = this.#samples.newest;
      if (held) this.#store.heard(held.at);
    }
    return this.#store;
  }

  /** The node's metrics history tiers (`./node-session/metrics-tiers`). */
  get tiers(): MetricsTiers {
    this.#tiers ??= new MetricsTiers(this.ctx.storage.sql);
    return this.#tiers;
  }

  get inventoryChunks(): InventoryChunks {
    this.#inventoryChunks ??= new InventoryChunks(this.ctx.storage.sql);
    return this.#inventoryChunks;
  }

  #database(): Database {
    if (!this.#db) {
      const config = loadConfig(this.env);
      this.#db = createDatabase({ url: config.libsqlUrl, authToken: config.libsqlAuthToken });
    }
    return this.#db;
  }

  /** Reaching into the node (`./node-session/reach-calls`); built on first use, once the object has its name. */
  get #reach(): NodeReach {
    this.#reachCalls ??= new NodeReach({
      nodeId: this.name,
      env: this.env,
      store: this.store,
      rpcs: this.#rpcs,
      streams: this.#streams,
      uploads: this.#uploads,
      logTails: this.#logTails,
      liveConnection: () => this.#liveConnection(),
      db: () => this.#database(),
      log: () => this.#logger(),
      background: (task) => this.ctx.waitUntil(task),
    });
    return this.#reachCalls;
  }

  /** The one alarm: staleness, pending alerts, reboot steps (`./node-session/session-alarm`). */
  get #alarm(): SessionAlarm {
    this.#alarmCalls ??= new SessionAlarm({
      frames: () => this.#frameSession(),
      setAlarm: (at) => this.ctx.storage.setAlarm(at),
      liveConnection: () => this.#liveConnection(),
      flushSamples: () => this.#samples.flush(),
      enqueue: (task) => this.#enqueue(task),
      observe: (status, reason, seen) => this.#observe(status, reason, seen),
      log: () => this.#logger(),
    });
    return this.#alarmCalls;
  }

  /** The session as frame handling sees it (`./node-session/frames`). */
  #frameSession(): FrameSession {
    this.#frames ??= {
      nodeId: this.name,
      env: this.env,
      store: this.store,
      inventoryChunks: this.inventoryChunks,
      liveOutput: this.#liveOutput,
      rpcs: this.#rpcs,
      streams: this.#streams,
      uploads: this.#uploads,
      outputGate: this.#outputGate,
      waiters: this.#waiters,
      rulesClock: this.#rulesClock,
      log: this.#logger(),
      db: () => this.#database(),
      write: (write) => this.#write(write),
      observe: (status, reason, seen) => this.#observe(status, reason, seen),
      armAlarm: () => this.#alarm.arm(),
      publishSystem: (at, host, system, keep) => this.#metricsStreams.publish(at, host, system, keep),
      recordSample: (connection, entry) => this.#recordSample(connection, entry),
      // Streams see it with their next sample.
      publishDetail: (detail) => rememberDetail(this.store, detail),
      agentReady: (connection) => this.#metricsStreams.agentReady(connection),
      background: (task) => this.ctx.waitUntil(task),
    };
    return this.#frames;
  }

  /**
   * Holds a heartbeat's sample in the connection's attachment (`./node-session/sample-buffer`);
   * written with the presence refresh or the latest metrics when those are due (the same commit).
   */
  #recordSample(connection: Connection, entry: BufferedSample): void {
    const at = entry.sample.at;
    this.store.heard(at);
    // The presence refresh and the latest metrics write state rows in this turn anyway.
    const stateDue =
      at - readPresence(this.store).lastSeenWrittenAt >= LAST_SEEN_WRITE_INTERVAL_MS ||
      latestMetricsDue(this.store, at);
    this.#samples.add(entry, stateDue, heldSlot(connection));
    markHeard(connection, at);
  }

  /** Writes samples to the object's SQLite (one synchronous turn: one commit). */
  #storeSamples(samples: BufferedSample[]): void {
    for (const { sample, values } of samples) {
      this.store.addSample(sample);
      this.tiers.record(sample.at, values);
    }
    const last = samples.at(-1);
    if (last) keepSystem(this.store, last.sample.at, last.system, last.hadSystem === true);
  }

  /** Every connection's held samples (a closing one's too: its close flushes them). */
  #heldSlots(): HeldSlot[] {
    return [...this.getConnections()].map(heldSlot);
  }

  readonly #rulesClock: RulesClock = rulesClock(() => this.#liveConnection());

  #logger(): Logger {
    this.#log ??= createLogger({ fields: { node_id: this.name } });
    return this.#log;
  }

  /** A repeatable libSQL write, tried again on transient errors; each retry is logged. */
  #write<T>(write: () => Promise<T>): Promise<T> {
    return retryTransient(write, undefined, (error, attempt) =>
      this.#logger().warn("database write failed, retrying", { attempt, error }),
    );
  }

  /** The newest open connection (there is at most one once `onConnect` has run). */
  #liveConnection(): Connection | undefined {
    let live: Connection | undefined;
    for (const conn of this.getConnections()) if (conn.readyState === WebSocket.OPEN) live = conn;
    return live;
  }

  async onConnect(connection: Connection, ctx: ConnectionContext): Promise<void> {
    if (ctx.request.headers.get(NODE_ID_HEADER) !== this.name) {
      connection.close(CLOSE_CODES.unauthorized, "node mismatch");
      return;
    }
    for (const other of this.getConnections()) {
      if (other.id === connection.id) continue;
      // One live connection per node: the newcomer wins; two agents fighting over an id is a clone.
      other.close(CLOSE_CODES.replaced, "replaced by a newer connection");
      this.store.log("replaced", `connection ${other.id} replaced by ${connection.id}`);
      this.#logger().warn("agent connection replaced (possible clone)");
    }
    this.store.log("connected", connection.id);
  }

  onMessage(connection: Connection, message: WSMessage): Promise<void> {
    // Checked before queueing, so a flood never builds a backlog of frames waiting for libSQL.
    if (connection.readyState !== WebSocket.OPEN) return Promise.resolve();
    // File chunks and answers to what this object opened are handled at once (./node-session/paced-frames).
    const arrival = arrive({ rpcs: this.#rpcs, streams: this.#streams, uploads: this.#uploads }, message);
    if (arrival.kind === "handled") return Promise.resolve();
    if (!this.#budget(connection).take()) {
      this.#logger().warn("agent frame rate exceeded, closing the connection", { connection: connection.id });
      this.store.log("rate_limited", connection.id);
      connection.close(CLOSE_CODES.policyViolation, "frame rate exceeded");
      return Promise.resolve();
    }
    if (arrival.kind === "dropped") return Promise.resolve();
    return this.#enqueue(() => this.#process(connection, arrival.parsed));
  }

  #budget(connection: Connection): FrameBudget {
    let budget = this.#budgets.get(connection.id);
    if (!budget) {
      const config = loadConfig(this.env);
      budget = new FrameBudget(config.nodeFrameRate, config.nodeFrameBurst);
      this.#budgets.set(connection.id, budget);
    }
    return budget;
  }

  #enqueue(task: () => Promise<void>): Promise<void> {
    this.#queue = this.#queue.then(task).catch((err) => {
      this.#logger().error("node session task failed", { error: err });
    });
    return this.#queue;
  }

  async #process(connection: Connection, parsed: { frame: AgentFrame } | { error: string }): Promise<void> {
    if ("error" in parsed) return this.#reject(connection, parsed.error);
    try {
      await handleAgentFrame(this.#frameSession(), connection, parsed.frame);
    } catch (err) {
      this.#logger().error("frame handling failed", { frame: parsed.frame.type, error: err });
      // A node is never "connected without config", and a write that kept failing must not be
      // forgotten: close, so the agent reconnects, says hello again and re-sends what is unacked.
      if (parsed.frame.type === "hello" || isTransientDbError(err)) {
        connection.close(CLOSE_CODES.tryAgainLater, "the server could not record that; reconnect");
        return;
      }
      connection.send(
        encodeServerFrame({
          type: "error",
          code: "internal_error",
          message: "the server could not process that frame",
        }),
      );
    }
  }

  #reject(connection: Connection, message: string): void {
    this.#invalidFrames++;
    this.#logger().warn("invalid agent frame", { error: message });
    connection.send(encodeServerFrame({ type: "error", code: "invalid_frame", message }));
    if (this.#invalidFrames > MAX_INVALID_FRAMES)
      connection.close(CLOSE_CODES.protocolError, "too many invalid frames");
  }

  onClose(connection: Connection, code: number): Promise<void> {
    this.#budgets.delete(connection.id);
    return this.#enqueue(() => this.#closed(connection, code));
  }

  async #closed(connection: Connection, code: number): Promise<void> {
    this.#samples.flush([heldSlot(connection)]);
    this.store.log("closed", `${connection.id} code ${code}`);
    const stillLive = [...this.getConnections()].some(
      (c) => c.id !== connection.id && c.readyState === WebSocket.OPEN,
    );
    if (!stillLive) {
      // Nothing answers on a closed socket: waiting calls and open streams end now, not at their deadline.
      this.#rpcs.failAll();
      this.#streams.failAll();
      this.#uploads.failAll();
    }
    if (!stillLive && code !== CLOSE_CODES.nodeDeleted) {
      await this.#observe("unreachable", "agent disconnected", false);
      this.#metricsStreams.agentGone();
      await this.#alarm.alertUnreachable();
    }
  }

  /** `observe` for this node, its `last_seen_at` refreshes grouped by the node's batch writer. */
  #observe(status: NodeStatus, reason: string, seen: boolean | "sampled"): Promise<void> {
    const db = this.#database();
    // The node list's latest metrics ride on a last_seen_at refresh, at most once a minute.
    const due =
      seen === "sampled"
        ? dueLatestMetrics(this.store, Date.now(), () => this.#samples.newest ?? this.store.latestSample())
        : undefined;
    return observe(this.store, this.name, status, reason, seen, {
      touchLastSeen: (s) => {
        due?.markWritten();
        return writeLastSeen(this.env, db, due ? { ...s, metrics: due.metrics } : s);
      },
      setStatus: (change) => writeStatus(this.env, db, change),
      minFlipIntervalMs: loadConfig(this.env).nodeStatusMinIntervalMs,
      write: (write) => this.#write(write),
      forceTouch: due !== undefined,
    });
  }

  /** The alarm fired (`./node-session/session-alarm`). */
  onAlarm(): Promise<void> {
    return this.#alarm.run();
  }

  /** The one plain request besides the upgrade: an execution's live output as Server-Sent Events. */
  async onRequest(request: Request): Promise<Response> {
    const metrics = streamedMetrics(request);
    if (metrics) return this.#metricsStream(metrics.interval, metrics.clusterName);
    const executionId = streamedExecution(request);
    if (!executionId) return new Response("not found", { status: 404 });
    const { streamMaxSubscribers, streamMaxLifetimeMs } = loadConfig(this.env);
    const after = Number(request.headers.get("last-event-id") ?? "0");
    return this.#liveOutput.subscribe(
      executionId,
      () => finalState(this.#database(), executionId),
      { maxSubscribers: streamMaxSubscribers, maxLifetimeMs: streamMaxLifetimeMs },
      Number.isSafeInteger(after) && after > 0 ? after : 0,
    );
  }

  /** A live metrics stream; 503 (JSON `{reason}`) when the agent is offline or too many are open. */
  #metricsStream(interval: number, clusterName: string): Response {
    const { streamMaxSubscribers, streamMaxLifetimeMs } = loadConfig(this.env);
    const stream = this.#metricsStreams.subscribe(interval, clusterName, {
      maxSubscribers: streamMaxSubscribers,
      maxLifetimeMs: streamMaxLifetimeMs,
    });
    return typeof stream === "string" ? Response.json({ reason: stream }, { status: 503 }) : stream;
  }

  // ---- RPC from the Worker (the stub returns a promise of each result) ----

  /**
   * Sends one frame to the connected agent, validated against the catalog on the way out.
   * False when no agent is connected.
   */
  sendFrame(frame: Outgoing<ServerFrame>): boolean {
    const conn = this.#liveConnection();
    if (!conn) return false;
    conn.send(encodeServerFrame(frame));
    return true;
  }

  /**
   * The node moved to `clusterName`: a connected agent gets a new `config`, keeping the heartbeat
   * interval it announced. False when no agent is connected (it learns with its next hello).
   */
  async changeCluster(clusterName: string): Promise<boolean> {
    if (!this.#liveConnection()) return false;
    return this.#sendConfig(await clusterSettingsByName(this.#database(), clusterName));
  }

  /**
   * The settings of the node's cluster changed (its detail interval): a connected agent gets a new
   * `config` at once. False when no agent is connected or the node is gone.
   */
  async refreshConfig(): Promise<boolean> {
    if (!this.#liveConnection()) return false;
    const cluster = await nodeClusterSettings(this.#database(), this.name);
    return cluster !== null && this.#sendConfig(cluster);
  }

  /** An alert rule that selects (or selected) this node changed: the next heartbeat fetches the rules again. */
  async alertRulesChanged(): Promise<void> {
    forgetCachedRules(this.#rulesClock);
  }

  #sendConfig(cluster: ClusterSettings): boolean {
    const conn = this.#liveConnection();
    if (!conn) return false;
    const heartbeat = readPresence(this.store).heartbeatIntervalSeconds;
    conn.send(
      encodeServerFrame(
        configFrame(loadConfig(this.env), this.name, cluster, heartbeat, streamsMetrics(conn)),
      ),
    );
    return true;
  }

  /**
   * Sends the node's `pending` executions to a connected agent, in order with frame handling;
   * with `resend` (the cron's safety net) its `sent` ones go out again too. False when no agent is
   * connected: the rows wait for its next hello.
   */
  async deliver(options: { resend: boolean }): Promise<boolean> {
    if (!this.#liveConnection()) return false;
    await this.#enqueue(async () => {
      const conn = this.#liveConnection();
      if (conn) await deliverExecutions(this.#database(), this.name, conn, options);
    });
    return true;
  }

  /**
   * Starts driving an orchestrated reboot of this node (C10) with the alarm; also how the cron
   * makes sure one in flight is driven after a restart.
   */
  async orchestrate(orchestrationId: string): Promise<void> {
    driveFromNow(this.store, orchestrationId);
    await this.#alarm.set(null);
  }

  /**
   * Sends executions the dispatcher already claimed (`sent`) for this node, in order
   * with frame handling and without database work. False when no agent is connected: those rows are
   * `sent` but unseen, and go out again with the agent's next hello.
   */
  async pushExecutions(executions: ClaimedExecution[]): Promise<boolean> {
    let connected = false;
    await this.#enqueue(async () => {
      const conn = this.#liveConnection();
      if (!conn) return;
      connected = true;
      for (const row of executions) sendExec(conn, row);
    });
    return connected;
  }

  /**
   * `pushExecutions`, then waits (at most `waitMs`) until the results of `awaitIds` (some of the
   * pushed executions) are written to libSQL, and answers with what was written: a synchronous
   * command's answer without polling the database. Null for an execution whose result did not come
   * in time or changed nothing (it ended another way); all null at once when no agent is connected.
   */
  async pushAndAwait(
    executions: ClaimedExecution[],
    awaitIds: string[],
    waitMs: number,
  ): Promise<(SettledExecution | null)[]> {
    // Waiting before the push: a result cannot come in before its waiter.
    const settled = this.#waiters.wait(awaitIds, waitMs);
    if (!(await this.pushExecutions(executions))) {
      for (const id of awaitIds) this.#waiters.settle(id, () => null);
    }
    return settled;
  }

  /**
   * Asks a connected agent to collect inventory now (an operator's refresh), in order with frame
   * handling: `offline` without a connected agent, `unsupported` when it lacks the inventory capability.
   */
  async requestInventory(ask: InventoryAsk): Promise<"sent" | "offline" | "unsupported"> {
    let outcome: "sent" | "offline" | "unsupported" = "offline";
    await this.#enqueue(async () => {
      const conn = this.#liveConnection();
      if (conn) outcome = askForInventory(this.store, conn, ask);
    });
    return outcome;
  }

  /**
   * RPC from `rotate_token`: pushes the new token to the connected agent, which saves it and answers
   * `token_stored`. False when no agent is connected (it then needs the token from the API answer).
   */
  async pushToken(apiToken: string): Promise<boolean> {
    let connected = false;
    await this.#enqueue(async () => {
      const conn = this.#liveConnection();
      if (!conn) return;
      connected = true;
      conn.send(encodeServerFrame({ type: "token_rotated", api_token: apiToken }));
      this.store.log("token_rotated", conn.id);
    });
    return connected;
  }

  /** RPC from `revoke_token` (the token is already invalid in libSQL): closes the agent's sockets. */
  async closeForRevokedToken(): Promise<void> {
    for (const conn of this.getConnections()) conn.close(CLOSE_CODES.unauthorized, "token revoked");
  }

  /**
   * The node was deleted (its token is already gone from libSQL): closes the agent's socket with
   * the node-deleted code, which tells the agent not to reconnect, and erases this object's storage.
   */
  async forget(): Promise<void> {
    this.#liveConnection()?.close(CLOSE_CODES.nodeDeleted, "node deleted");
    await this.ctx.storage.deleteAlarm();
    this.#samples.discard();
    this.store.clear();
    this.tiers.clear();
    this.inventoryChunks.clear();
  }

  /** The latest heartbeat sample, and up to `history` recent ones (at most `METRICS_HISTORY_LIMIT`). */
  metrics(history = 0): NodeMetrics {
    this.#samples.flush();
    const limit = Number.isInteger(history) ? Math.min(Math.max(history, 0), METRICS_HISTORY_LIMIT) : 0;
    return { latest: this.store.latestSample(), history: limit > 0 ? this.store.samples(limit) : [] };
  }

  /** The latest full snapshot (`GET /api/v1/nodes/{node_id}/metrics/system`); null before any heartbeat. */
  systemMetrics(): SystemSnapshot | null {
    this.#samples.flush();
    return latestSystem(this.store);
  }

  /** The node's metrics history for one query (`GET /api/v1/nodes/{node_id}/metrics/history`). */
  metricsHistory(query: HistoryQuery): HistoryRows {
    this.#samples.flush();
    return queryHistory(this.tiers, query, Date.now());
  }

  // ---- Reaching into the node (processes, logs, files): `./node-session/reach-calls` ----

  /** Calls one method on the node's agent (processes, logs, files) and waits for its answer. */
  reach<M extends ReachMethod>(method: M, params: MethodParams<M>): Promise<RpcOutcome<MethodResult<M>>> {
    return this.#reach.call(method, params);
  }

  /** A file from the node, streamed with flow control (`NodeReach.download`). */
  download(path: string): Promise<RpcOutcome<{ response: Response }>> {
    return this.#reach.download(path);
  }

  /** An upload to the node, paced by the agent's credits (`NodeReach.upload`). */
  upload(
    fields: MethodParams<"files.write_open">,
    body: ReadableStream<Uint8Array>,
  ): Promise<RpcOutcome<MethodResult<"files.write_commit">>> {
    return this.#reach.upload(fields, body);
  }

  /** A live log tail as Server-Sent Events (`NodeReach.tailLogs`). */
  tailLogs(params: StreamParams<"logs.tail">): Promise<RpcOutcome<{ response: Response }>> {
    return this.#reach.tailLogs(params);
  }

  /** Connection, presence and the connection log, for diagnostics and tests. */
  state(): SessionState {
    this.#samples.flush();
    return {
      connected: this.#liveConnection() !== undefined,
      presence: readPresence(this.store),
      samples: this.store.sampleCount(),
      live_outputs: this.#liveOutput.size,
      streams: this.#liveOutput.subscribers,
      metrics_streams: this.#metricsStreams.size,
      sync_waiters: this.#waiters.size,
      connection_log: this.store.connectionLog(),
    };
  }
}
