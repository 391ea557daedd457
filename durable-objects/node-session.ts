import { type Connection, type ConnectionContext, Server, type WSMessage } from "partyserver";
import { createDatabase, type Database } from "../src/db/client";
import { describeError } from "../src/db/errors";
import type { ClaimedExecution } from "../src/executions/lifecycle";
import type { NodeStatus } from "../src/nodes/status";
import { type AgentFrame, CLOSE_CODES, encodeServerFrame, parseAgentFrame } from "../src/protocol/frames";
import { type Env, loadConfig } from "../workers/env";
import { writeLastSeen, writeResult } from "./batch-writer";
import { deliverExecutions, resendLive, sendExec } from "./node-session/delivery";
import { internalApi } from "./node-session/internal-api";
import { LiveOutput } from "./node-session/live-output";
import { observe, readPresence, recordHello, staleWindowMs } from "./node-session/presence";
import { SessionStore } from "./node-session/store";

/** Header the Worker sets after authenticating the agent's token. */
export const NODE_ID_HEADER = "x-outpost-node-id";
const MAX_INVALID_FRAMES = 20;

/**
 * One per node (`idFromName(node_id)`): holds the agent's WebSocket with the
 * hibernation API, tracks presence and status, keeps the node's metrics. The
 * handlers stay thin; the logic lives in `./node-session/*`.
 */
export class NodeSession extends Server<Env> {
  static options = { hibernate: true };

  #store?: SessionStore;
  #db?: Database;
  #invalidFrames = 0;
  #internal?: ReturnType<typeof internalApi>;
  // Frames are handled one at a time, in arrival order: a handler awaits libSQL,
  // and a later heartbeat must not act on presence state an earlier one is still changing.
  #queue: Promise<void> = Promise.resolve();
  readonly liveOutput = new LiveOutput();

  get store(): SessionStore {
    this.#store ??= new SessionStore(this.ctx.storage.sql);
    return this.#store;
  }

  get db(): Database {
    if (!this.#db) {
      const config = loadConfig(this.env);
      this.#db = createDatabase({ url: config.libsqlUrl, authToken: config.libsqlAuthToken });
    }
    return this.#db;
  }

  get staleFactor(): number {
    return loadConfig(this.env).heartbeatStaleFactor;
  }

  /** The newest open connection (there is at most one once `onConnect` has run). */
  liveConnection(): Connection | undefined {
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
      console.warn(
        JSON.stringify({
          level: "warn",
          msg: "agent connection replaced (possible clone)",
          node_id: this.name,
        }),
      );
    }
    this.store.log("connected", connection.id);
  }

  onMessage(connection: Connection, message: WSMessage): Promise<void> {
    return this.#enqueue(() => this.#process(connection, message));
  }

  #enqueue(task: () => Promise<void>): Promise<void> {
    this.#queue = this.#queue.then(task).catch((err) => {
      console.error(
        JSON.stringify({
          level: "error",
          msg: "node session task failed",
          node_id: this.name,
          error: describeError(err),
        }),
      );
    });
    return this.#queue;
  }

  async #process(connection: Connection, message: WSMessage): Promise<void> {
    if (typeof message !== "string") return this.#reject(connection, "binary frames are not supported");
    const parsed = parseAgentFrame(message);
    if ("error" in parsed) return this.#reject(connection, parsed.error);
    try {
      await this.#handle(connection, parsed.frame);
    } catch (err) {
      console.error(
        JSON.stringify({
          level: "error",
          msg: "frame handling failed",
          node_id: this.name,
          error: describeError(err),
        }),
      );
      connection.send(
        encodeServerFrame({
          type: "error",
          code: "internal_error",
          message: "the server could not process that frame",
        }),
      );
    }
  }

  async #handle(connection: Connection, frame: AgentFrame): Promise<void> {
    switch (frame.type) {
      case "hello": {
        const facts = await recordHello(this.db, this.name, {
          version: frame.agent_version,
          hostname: frame.hostname,
          platform: frame.platform,
        });
        if (!facts) {
          connection.close(CLOSE_CODES.nodeDeleted, "node deleted");
          return;
        }
        const now = Date.now();
        const presence = readPresence(this.store);
        this.store.set("presence", {
          ...presence,
          heartbeatIntervalSeconds: frame.heartbeat_interval_seconds,
          status: "healthy",
          lastHeartbeatAt: now,
          // last_seen_at was written with the status change; otherwise the next heartbeat refreshes it when due.
          lastSeenWrittenAt: facts.statusChanged ? now : presence.lastSeenWrittenAt,
        });
        connection.send(
          encodeServerFrame({
            type: "config",
            node_id: this.name,
            cluster_name: facts.clusterName,
            heartbeat_interval_seconds: frame.heartbeat_interval_seconds,
          }),
        );
        await this.#armAlarm();
        await resendLive(this.db, this.name, connection, facts.live);
        return;
      }
      case "output":
        this.liveOutput.push(frame.execution_id, frame.chunk);
        return;
      case "result": {
        // Through the shard's writer, which groups results arriving together into one libSQL write.
        const status = await writeResult(this.env, this.db, {
          nodeId: this.name,
          executionId: frame.execution_id,
          exitCode: frame.exit_code,
          output: frame.output,
        });
        // Acked whether or not it changed the row: a duplicate or late result is settled either way.
        connection.send(encodeServerFrame({ type: "ack", execution_id: frame.execution_id }));
        if (status) this.liveOutput.finish(frame.execution_id, { status, exit_code: frame.exit_code });
        return;
      }
      case "heartbeat": {
        const failing = frame.checks.filter((c) => !c.ok);
        this.store.addSample({ at: Date.now(), host: frame.host, agent: frame.agent, checks: frame.checks });
        const reason =
          failing.length > 0 ? `failing checks: ${failing.map((c) => c.name).join(", ")}` : "heartbeat";
        await this.#observe(failing.length > 0 ? "unhealthy" : "healthy", reason, "sampled");
        return;
      }
      case "error":
        console.warn(
          JSON.stringify({
            level: "warn",
            msg: "agent reported a frame error",
            node_id: this.name,
            code: frame.code,
            error: frame.message,
          }),
        );
        return;
      case "ping":
        connection.send(encodeServerFrame({ type: "pong", id: frame.id, sent_at: frame.sent_at }));
        return;
      case "token_stored":
        this.store.log("token_stored", connection.id);
        return;
      default:
        return;
    }
  }

  #reject(connection: Connection, message: string): void {
    this.#invalidFrames++;
    console.warn(
      JSON.stringify({ level: "warn", msg: "invalid agent frame", node_id: this.name, error: message }),
    );
    connection.send(encodeServerFrame({ type: "error", code: "invalid_frame", message }));
    if (this.#invalidFrames > MAX_INVALID_FRAMES)
      connection.close(CLOSE_CODES.protocolError, "too many invalid frames");
  }

  onClose(connection: Connection, code: number): Promise<void> {
    return this.#enqueue(() => this.#closed(connection, code));
  }

  async #closed(connection: Connection, code: number): Promise<void> {
    this.store.log("closed", `${connection.id} code ${code}`);
    const stillLive = [...this.getConnections()].some(
      (c) => c.id !== connection.id && c.readyState === WebSocket.OPEN,
    );
    if (!stillLive && code !== CLOSE_CODES.nodeDeleted) {
      await this.#observe("unreachable", "agent disconnected", false);
    }
  }

  /** `observe` for this node, its `last_seen_at` refreshes grouped by the node's batch writer. */
  #observe(status: NodeStatus, reason: string, seen: boolean | "sampled"): Promise<void> {
    return observe(this.db, this.store, this.name, status, reason, seen, (s) =>
      writeLastSeen(this.env, this.db, s),
    );
  }

  async #armAlarm(): Promise<void> {
    const presence = readPresence(this.store);
    await this.ctx.storage.setAlarm(presence.lastHeartbeatAt + staleWindowMs(presence, this.staleFactor));
  }

  /** Staleness check: no heartbeat within the window → unreachable; otherwise check again later. */
  async onAlarm(): Promise<void> {
    const presence = readPresence(this.store);
    if (presence.status === "unreachable") return;
    const deadline = presence.lastHeartbeatAt + staleWindowMs(presence, this.staleFactor);
    if (Date.now() >= deadline) {
      await this.#observe("unreachable", "no heartbeat within the stale window", false);
      return;
    }
    await this.ctx.storage.setAlarm(deadline);
  }

  async onRequest(request: Request): Promise<Response> {
    // Built once per instance: a Hono app and its routes per request cost more than most handlers.
    this.#internal ??= internalApi({
      nodeId: this.name,
      store: this.store,
      liveConnection: () => this.liveConnection(),
      forget: () => this.#forget(),
      liveOutput: this.liveOutput,
      db: this.db,
      deliver: (resend) =>
        this.#enqueue(async () => {
          const conn = this.liveConnection();
          if (conn) await deliverExecutions(this.db, this.name, conn, { resend });
        }),
    });
    return this.#internal.fetch(request);
  }

  /**
   * RPC from the dispatcher: sends executions it already claimed (`sent`) for this node, in order
   * with frame handling and without database work. False when no agent is connected: those rows are
   * `sent` but unseen, and go out again with the agent's next hello.
   */
  async pushExecutions(executions: ClaimedExecution[]): Promise<boolean> {
    let connected = false;
    await this.#enqueue(async () => {
      const conn = this.liveConnection();
      if (!conn) return;
      connected = true;
      for (const row of executions) sendExec(conn, row);
    });
    return connected;
  }

  /**
   * RPC from `rotate_token`: pushes the new token to the connected agent, which saves it and answers
   * `token_stored`. False when no agent is connected (it then needs the token from the API answer).
   */
  async pushToken(apiToken: string): Promise<boolean> {
    let connected = false;
    await this.#enqueue(async () => {
      const conn = this.liveConnection();
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

  async #forget(): Promise<void> {
    await this.ctx.storage.deleteAlarm();
    this.store.clear();
  }
}
