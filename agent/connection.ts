import ReconnectingWebSocket from "partysocket/ws";
import WS from "ws";
import { CLOSE_CODES, encodeAgentFrame, parseServerFrame, type ServerFrame } from "../src/protocol/frames";
import { serverBase } from "./enroll";
import { randomFillSync } from "./light-crypto";
import type { Logger } from "./log";
import type { AgentCounters } from "./metrics";
import { MAX_WS_PAYLOAD_BYTES } from "./transport";
import { AGENT_VERSION } from "./version";

/** A frame the agent sends, without the `v` field (encodeAgentFrame adds and checks it). */
export type OutgoingFrame = Parameters<typeof encodeAgentFrame>[0];

/** Why the server told this agent to stop for good. */
export type FatalReason = "node_deleted" | "unauthorized";

export interface ConnectionOptions {
  server: string;
  token: string;
  /** The token for the next connect when it may change while running (a rotated token). */
  currentToken?: () => string;
  log: Logger;
  counters: AgentCounters;
  /** The socket opened: send hello, then anything pending. */
  onOpen(): void;
  /** A valid frame from the server. */
  onFrame(frame: ServerFrame): void;
  /** A binary message from the server (an upload's chunk frame, `src/protocol/chunk-frames.ts`). */
  onBinary?(message: Uint8Array): void;
  /** The socket closed; partysocket reconnects unless the reason is fatal. */
  onDisconnect(): void;
  /** The server said stop: node deleted or token refused. No reconnect follows. */
  onFatal(reason: FatalReason, detail: string): void;
  connectTimeoutMs?: number;
  /** Base of the exponential backoff; each delay d is jittered to [d, 2d]. */
  minReconnectDelayMs?: number;
  /** Ceiling of the unjittered delay, so with jitter no wait exceeds 2× this (30 s). */
  maxReconnectDelayMs?: number;
  /**
   * How long a WebSocket ping may go unanswered before the connection counts as dead (default
   * 10 s). Probes come with heartbeats; with short heartbeats a deadline of one interval made
   * every agent of a busy server reconnect at once, which made the server busier.
   */
  pongTimeoutMs?: number;
}

const GROW_FACTOR = 1.7;

/** Bytes a binary producer lets wait in the socket's send queue before it waits for them to drain. */
const SEND_HIGH_WATER_BYTES = 1024 * 1024;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * `${server}/agent/v1/connect` with http → ws and https → wss.
 * @example connectUrl("https://outpost.example.com") // "wss://outpost.example.com/agent/v1/connect"
 */
export function connectUrl(server: string): string {
  const url = new URL(`${serverBase(server)}/agent/v1/connect`);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return url.toString();
}

/**
 * The agent's WebSocket to its NodeSession: partysocket's reconnecting WebSocket over
 * `ws`, authenticated with the node token, every frame validated both ways against the
 * shared catalog. Invalid frames are counted and logged, never thrown.
 */
export class AgentConnection {
  private readonly rws: ReconnectingWebSocket;
  /** The current underlying `ws` socket (partysocket makes a new one per attempt). */
  private socket: WS | undefined;
  private open = false;
  private opens = 0;
  private stopping = false;
  private pingOutstanding = false;
  private pingSentAt = 0;
  private serverPongs = false;
  /** The next frame goes with an all-zero mask (set only around sendBytes' synchronous send). */
  private unmaskedNext = false;

  constructor(private readonly options: ConnectionOptions) {
    const {
      token,
      log,
      connectTimeoutMs = 10_000,
      minReconnectDelayMs = 1000,
      maxReconnectDelayMs = 15_000,
    } = options;
    const self = this;
    // partysocket 1.3.0 constructs `new WebSocket(url, protocols)` with no way to pass
    // options, so the header rides on a subclass of ws.
    class AuthedWebSocket extends WS {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols, {
          headers: {
            Authorization: `Bearer ${self.options.currentToken?.() ?? token}`,
            "User-Agent": `outpost-agent/${AGENT_VERSION}`,
          },
          handshakeTimeout: connectTimeoutMs,
          // ws's default is 100 MiB; no server frame comes near 8 MiB (outputs flow the other way).
          maxPayload: MAX_WS_PAYLOAD_BYTES,
          // Frames are small JSON; compression would cost a zlib inflate/deflate context per
          // connection (and load zlib) for nothing. The bundle loads zlib only if this is on.
          perMessageDeflate: false,
          // A random mask for every frame but a file chunk's (see sendBytes).
          generateMask: (mask: Buffer) => {
            if (self.unmaskedNext) mask.fill(0);
            else randomFillSync(mask);
          },
        });
        self.socket = this;
        this.on("pong", () => {
          self.pingOutstanding = false;
          self.serverPongs = true;
        });
      }
    }
    this.rws = new ReconnectingWebSocket(
      async () => {
        // partysocket's own backoff is deterministic: a fleet dropped by one server restart
        // would retry in lockstep. Adding U(0, d) to its delay d spreads the herd.
        const retry = this.rws?.retryCount ?? 0;
        if (retry > 0) {
          const nominal = Math.min(minReconnectDelayMs * GROW_FACTOR ** (retry - 1), maxReconnectDelayMs);
          await sleep(Math.random() * nominal);
          log.info("connecting", { attempt: retry + 1 });
        }
        return connectUrl(options.server);
      },
      undefined,
      {
        WebSocket: AuthedWebSocket,
        minReconnectionDelay: minReconnectDelayMs,
        maxReconnectionDelay: maxReconnectDelayMs,
        reconnectionDelayGrowFactor: GROW_FACTOR,
        connectionTimeout: connectTimeoutMs,
        // Results and heartbeats are only sent while open (results are re-sent from the
        // journal after a reconnect), so this queue only absorbs races; bound it anyway.
        maxEnqueuedMessages: 100,
        shouldReconnectOnClose: (event) =>
          event.code !== CLOSE_CODES.nodeDeleted && event.code !== CLOSE_CODES.unauthorized,
      },
    );
    // Upload chunks arrive as binary messages; partysocket's default ("blob") would make each one async.
    this.rws.binaryType = "arraybuffer";
    this.rws.addEventListener("open", () => this.handleOpen());
    this.rws.addEventListener("message", (event) => this.handleMessage(event.data));
    this.rws.addEventListener("close", (event) => this.handleClose(event.code, event.reason));
    this.rws.addEventListener("error", (event) => this.handleError(event.message));
  }

  /** True while frames can be sent. */
  get isOpen(): boolean {
    return this.open;
  }

  private handleOpen() {
    this.open = true;
    this.pingOutstanding = false;
    this.serverPongs = false;
    if (this.opens++ > 0) this.options.counters.reconnects++;
    this.options.log.info("connected", { url: connectUrl(this.options.server) });
    this.options.onOpen();
  }

  private handleMessage(data: unknown) {
    const { counters, log } = this.options;
    counters.frames_in++;
    if (typeof data !== "string") {
      const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : null;
      if (!bytes || !this.options.onBinary) {
        counters.errors++;
        log.warn("ignoring a binary frame from the server");
        return;
      }
      try {
        this.options.onBinary(bytes);
      } catch (error) {
        counters.errors++;
        log.error("binary frame handler failed", { problem: (error as Error).message });
      }
      return;
    }
    const parsed = parseServerFrame(data);
    if ("error" in parsed) {
      counters.errors++;
      log.warn("ignoring an invalid frame from the server", { problem: parsed.error });
      // The protocol answers an invalid frame with an error frame, so the server's logs show it too.
      this.send({ type: "error", code: "invalid_frame", message: parsed.error });
      return;
    }
    try {
      this.options.onFrame(parsed.frame);
    } catch (error) {
      counters.errors++;
      log.error("frame handler failed", { type: parsed.frame.type, problem: (error as Error).message });
    }
  }

  private handleClose(code: number, reason: string) {
    const wasOpen = this.open;
    this.open = false;
    if (this.stopping) return;
    const { log } = this.options;
    this.options.onDisconnect();
    if (code === CLOSE_CODES.nodeDeleted) return this.fatal("node_deleted", reason);
    if (code === CLOSE_CODES.unauthorized) return this.fatal("unauthorized", reason);
    if (code === CLOSE_CODES.replaced) {
      log.warn("another agent with this node id connected (clone?); reconnecting with backoff", { reason });
    } else if (code === CLOSE_CODES.protocolError) {
      log.error("the server closed the connection over invalid frames; reconnecting", { reason });
    } else if (wasOpen) {
      log.warn("connection lost; reconnecting", { code, reason });
    }
  }

  private handleError(message: string) {
    if (this.stopping) return;
    // A refused upgrade (the token is unknown or revoked) arrives as an HTTP status, not a close code.
    const status = /Unexpected server response: (\d+)/.exec(message)?.[1];
    if (status === "401" || status === "403") return this.fatal("unauthorized", `HTTP ${status} on upgrade`);
    this.options.log.info("connection attempt failed", { problem: message });
  }

  private fatal(reason: FatalReason, detail: string) {
    this.stopping = true;
    this.rws.close();
    this.options.onFatal(reason, detail);
  }

  /**
   * Sends a frame if the socket is open; validates it first. Returns false when it was
   * not sent (closed, or invalid — a bug, logged).
   */
  send(frame: OutgoingFrame): boolean {
    if (!this.open) return false;
    let text: string;
    try {
      text = encodeAgentFrame(frame);
    } catch (error) {
      this.options.counters.errors++;
      this.options.log.error("refusing to send an invalid frame", {
        type: frame.type,
        problem: (error as Error).message,
      });
      return false;
    }
    this.options.counters.frames_out++;
    return this.rws.send(text);
  }

  /**
   * Sends a binary message (a download's chunk frame) if the socket is open; false when not sent.
   * With an all-zero mask, which ws sends as it is: a random one makes ws copy the chunk and XOR
   * every byte in JavaScript, and under the installed agent's `--lite-mode` (no optimising
   * compiler) that loop capped a download at ~25 MB/s. The mask guards browsers' scripts against
   * poisoning proxy caches (RFC 6455 §10.3); the agent runs no foreign script, and its chunks are
   * file bytes it chose to send. ws keeps a reference to `frame` until it is written: the caller
   * must not reuse it before `written` is called (once the socket has handed the frame to the
   * kernel, or failed to: a closed socket calls it too).
   */
  sendBytes(frame: Uint8Array, written?: () => void): boolean {
    const socket = this.socket;
    if (!this.open || !socket || socket.readyState !== WS.OPEN) return false;
    this.options.counters.frames_out++;
    this.unmaskedNext = true;
    try {
      socket.send(frame, { binary: true }, written && (() => written()));
    } finally {
      this.unmaskedNext = false;
    }
    return true;
  }

  /**
   * Resolves once the socket has at most `limit` bytes queued for the kernel (or is closed): a
   * producer that waits here before each chunk keeps the agent's memory at its own buffer plus
   * `limit`, however slowly the network drains.
   */
  async drained(limit = SEND_HIGH_WATER_BYTES): Promise<void> {
    for (;;) {
      const socket = this.socket;
      if (!socket || socket.readyState !== WS.OPEN || socket.bufferedAmount <= limit) return;
      await sleep(2);
    }
  }

  /**
   * Detects a half-open TCP connection: pings at the WebSocket level and, if the server has
   * answered pings on this connection before but has left the outstanding one unanswered for
   * `pongTimeoutMs`, reconnects. Called with every heartbeat; no second ping while one is out.
   */
  probe(): void {
    if (!this.open || !this.socket || this.socket.readyState !== WS.OPEN) return;
    if (this.pingOutstanding) {
      const waited = Date.now() - this.pingSentAt;
      if (!this.serverPongs || waited < (this.options.pongTimeoutMs ?? 10_000)) return;
      this.options.log.warn("no pong from the server; reconnecting", { waited_ms: waited });
      this.rws.reconnect(1001, "no pong");
      return;
    }
    this.pingOutstanding = true;
    this.pingSentAt = Date.now();
    this.socket.ping();
  }

  /** Closes cleanly (default 1000) and waits briefly for the closing handshake. No reconnect. */
  async close(code = 1000, reason = "agent shutting down", waitMs = 2000): Promise<void> {
    this.stopping = true;
    const socket = this.socket;
    this.open = false;
    this.rws.close(code, reason);
    if (!socket || socket.readyState === WS.CLOSED) return;
    await Promise.race([new Promise((resolve) => socket.once("close", resolve)), sleep(waitMs)]);
  }
}
