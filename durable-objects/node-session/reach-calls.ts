import type { Connection } from "partyserver";
import { type Env, loadConfig } from "../../src/config";
import type { Database } from "../../src/db/client";
import { recordEvent } from "../../src/events/outbox";
import type { Logger } from "../../src/log";
import type { MethodParams, MethodResult, ReachMethod, StreamParams } from "../../src/protocol/reach-methods";
import { downloadResponse, downloadStream } from "./file-download";
import { type AgentUploads, uploadFailureOutcome } from "./file-upload";
import { helloReceived } from "./frames";
import type { LogTails } from "./log-tail";
import { readPresence } from "./presence";
import { CAPABILITIES_KEY, missingCapability, type PendingRpcs, type RpcOutcome } from "./rpc";
import type { SessionStore } from "./store";
import type { AgentStreams } from "./streams";

/** How long a reach-in request waits for a just-connected agent's hello (its capabilities). */
const HELLO_WAIT_MS = 5_000;

/** What reaching into the node needs from its NodeSession. */
export interface ReachSession {
  readonly nodeId: string;
  readonly env: Env;
  readonly store: SessionStore;
  readonly rpcs: PendingRpcs;
  readonly streams: AgentStreams;
  readonly uploads: AgentUploads;
  readonly logTails: LogTails;
  liveConnection(): Connection | undefined;
  db(): Database;
  log(): Logger;
  /** Lets work finish after the call answered (a download's event, recorded once its last byte went). */
  background(task: Promise<unknown>): void;
}

/**
 * The Worker's calls into a node (processes, logs, files: `NodeSession.reach`, `download`,
 * `upload`, `tailLogs`): each goes to the live connection if the agent announced the method's
 * capability, and ends in an `RpcOutcome` (never a throw across the RPC boundary).
 */
export class NodeReach {
  constructor(private readonly session: ReachSession) {}

  /** Calls one method on the node's agent and waits for its answer. */
  async call<M extends ReachMethod>(
    method: M,
    params: MethodParams<M>,
  ): Promise<RpcOutcome<MethodResult<M>>> {
    const target = await this.#reachableAfterHello(method);
    if (!("conn" in target)) return target;
    return this.session.rpcs.call(target.conn, method, params, loadConfig(this.session.env).nodeRpcTimeoutMs);
  }

  /**
   * A file from the node: the agent's `files.stat` (size, SHA-256), then its bytes streamed in chunks
   * with flow control. `too_large` past `FILE_TRANSFER_MAX_BYTES`.
   */
  async download(path: string): Promise<RpcOutcome<{ response: Response }>> {
    // Before the stat: an agent without binary chunks (files.v3) hashes no file for nothing.
    const able = await this.#reachableAfterHello("files.read");
    if (!("conn" in able)) return able;
    const stat = await this.call("files.stat", { path });
    if (stat.status !== "ok") return stat;
    const { fileTransferMaxBytes } = loadConfig(this.session.env);
    if (stat.result.size > fileTransferMaxBytes)
      return {
        status: "error",
        code: "too_large",
        message: `the file is ${stat.result.size} bytes; FILE_TRANSFER_MAX_BYTES is ${fileTransferMaxBytes}`,
      };
    const target = this.#reachable("files.read");
    if (!("conn" in target)) return target;
    const { path: real, size, sha256 } = stat.result;
    const body = downloadStream(this.session.streams, target.conn, real, size, () =>
      this.session.background(
        recordEvent(this.session.db(), "edge.file_transfer.completed", {
          node_id: this.session.nodeId,
          direction: "download",
          path: real,
          size,
          sha256,
        })
          .then(() => undefined)
          .catch((error: unknown) =>
            this.session.log().warn("a download's event was not recorded", { error: String(error) }),
          ),
      ),
    );
    return { status: "ok", result: { response: downloadResponse(body, stat.result) } };
  }

  /**
   * An upload to the node: `files.write_open`, then `body` sent as binary chunk frames paced by the
   * agent's credits (the object holds one chunk however large the file), then `files.write_commit`
   * with the size and SHA-256 of what was sent. Any failure on the way aborts it on the agent.
   */
  async upload(
    fields: MethodParams<"files.write_open">,
    body: ReadableStream<Uint8Array>,
  ): Promise<RpcOutcome<MethodResult<"files.write_commit">>> {
    const opened = await this.call("files.write_open", fields);
    const target = this.#reachable("files.write_open");
    if (opened.status !== "ok" || !("conn" in target)) {
      await body.cancel().catch(() => undefined);
      return opened.status !== "ok" ? opened : this.#offline();
    }
    const { upload_id, credits } = opened.result;
    const { fileTransferMaxBytes, nodeRpcTimeoutMs } = loadConfig(this.session.env);
    const sent = await this.session.uploads.send(target.conn, upload_id, credits, body, {
      maxBytes: fileTransferMaxBytes,
      idleMs: nodeRpcTimeoutMs,
    });
    if ("kind" in sent) {
      await this.call("files.write_abort", { upload_id });
      return uploadFailureOutcome(sent, readPresence(this.session.store).status);
    }
    return this.call("files.write_commit", { upload_id, ...sent });
  }

  /** A live log tail as Server-Sent Events (`logs.tail`), shared by subscribers with the same filters. */
  async tailLogs(params: StreamParams<"logs.tail">): Promise<RpcOutcome<{ response: Response }>> {
    const target = await this.#reachableAfterHello("logs.tail");
    if (!("conn" in target)) return target;
    const { streamMaxLifetimeMs, streamMaxSubscribers } = loadConfig(this.session.env);
    const { logTails, nodeId } = this.session;
    // An open SSE response keeps the object awake: bounded like live output (STREAM_MAX_SUBSCRIBERS_PER_NODE).
    if (logTails.subscribers >= streamMaxSubscribers)
      return {
        status: "error",
        code: "internal",
        message: "Too many live log streams for this node; retry later",
      };
    return {
      status: "ok",
      result: { response: logTails.subscribe(target.conn, params, nodeId, streamMaxLifetimeMs) },
    };
  }

  #offline(): RpcOutcome<never> {
    return { status: "offline", node_status: readPresence(this.session.store).status };
  }

  /**
   * Where a reach-in request can go: the live connection, or how it cannot (offline, or the agent
   * did not announce the method's capability).
   */
  #reachable(method: string): { conn: Connection } | RpcOutcome<never> {
    const conn = this.session.liveConnection();
    if (!conn) return this.#offline();
    const missing = missingCapability(this.session.store.get<string[]>(CAPABILITIES_KEY), method);
    if (missing) return { status: "unsupported", capability: missing };
    return { conn };
  }

  /**
   * `#reachable` once a connection that is still saying hello has said it: its capabilities are
   * stored with the hello, so a request just after the agent connected would otherwise be refused
   * as unsupported (seen in e2e runs under load). Waits at most HELLO_WAIT_MS.
   */
  async #reachableAfterHello(method: string): Promise<{ conn: Connection } | RpcOutcome<never>> {
    const deadline = Date.now() + HELLO_WAIT_MS;
    for (;;) {
      const conn = this.session.liveConnection();
      if (!conn || helloReceived(conn) || Date.now() >= deadline) return this.#reachable(method);
      await scheduler.wait(25);
    }
  }
}
