import type { Connection } from "partyserver";
import { presentSystemMetrics, type SystemSnapshot } from "../../src/node-metrics/system-present";
import type { SystemMetricsResponse } from "../../src/node-metrics/system-schema";
import { encodeServerFrame, type HostMetrics } from "../../src/protocol/frames";
import type { SystemMetrics } from "../../src/protocol/system-metrics";
import { streamsMetrics } from "./frames";
import { LiveMetrics, type StreamStatus } from "./live-metrics";
import { readPresence } from "./presence";
import type { SessionStore } from "./store";
import { latestSystem, snapshotOf } from "./system-snapshot";

/** What the metrics streams need from their NodeSession. */
export interface MetricsStreamsSession {
  nodeId(): string;
  store(): SessionStore;
  liveConnection(): Connection | undefined;
  /** Writes the samples the connections hold, so the latest snapshot is read from storage. */
  flushSamples(): void;
}

/** Why a stream was refused (503 with `{reason}`). */
export type StreamRefusal = "offline" | "too_many_streams";

/**
 * The node's live metrics streams (`GET /api/v1/nodes/{node_id}/metrics/stream`) as the session
 * drives them: samples from the agent go out as presented snapshots, the agent is asked to sample
 * at the interval the subscribers want (`metrics_stream`), and they hear when it comes and goes.
 */
export class MetricsStreams {
  readonly #live = new LiveMetrics((seconds) => this.#askAgent(seconds));
  /** Cluster name the snapshots are labelled with (the Worker passes it with each subscription). */
  #clusterName = "";

  constructor(private readonly session: MetricsStreamsSession) {}

  /** Open streams. */
  get size(): number {
    return this.#live.size;
  }

  /** A fuller snapshot arrived (`keep`: a heartbeat's, stored with its sample): passed to the streams. */
  publish(at: number, host: HostMetrics, system: SystemMetrics | undefined, keep: boolean): void {
    // A stream sample nobody waits for (this object restarted and lost its subscribers): stop it.
    if (this.#live.size > 0)
      this.#live.publish(this.#present(snapshotOf(this.session.store(), at, host, system)));
    else if (!keep) this.#askAgent(null);
  }

  /** The agent said hello: the streams hear it, and one still open is started again on the agent. */
  agentReady(connection: Connection): void {
    this.#live.status({ connected: true, status: readPresence(this.session.store()).status });
    const seconds = this.#live.interval;
    if (seconds !== null && streamsMetrics(connection))
      connection.send(encodeServerFrame({ type: "metrics_stream", interval_seconds: seconds }));
  }

  /** The agent went away: the streams hear it. */
  agentGone(): void {
    this.#live.status({ connected: false, status: "unreachable" });
  }

  /** A new stream with the latest snapshot, or why not (no agent, or `maxSubscribers` open). */
  subscribe(
    interval: number,
    clusterName: string,
    limits: { maxSubscribers: number; maxLifetimeMs: number },
  ): Response | StreamRefusal {
    if (!this.session.liveConnection()) return "offline";
    if (this.#live.size >= limits.maxSubscribers) return "too_many_streams";
    this.#clusterName = clusterName;
    this.session.flushSamples();
    const latest = latestSystem(this.session.store());
    return this.#live.subscribe(
      interval,
      { status: this.#status(), snapshot: latest ? this.#present(latest) : null },
      limits.maxLifetimeMs,
    );
  }

  #present(snapshot: SystemSnapshot): SystemMetricsResponse {
    return presentSystemMetrics({ id: this.session.nodeId(), clusterName: this.#clusterName }, snapshot);
  }

  /** Tells a connected agent that can stream to sample every `seconds` (null: stop). */
  #askAgent(seconds: number | null): void {
    const conn = this.session.liveConnection();
    if (conn && streamsMetrics(conn))
      conn.send(encodeServerFrame({ type: "metrics_stream", interval_seconds: seconds }));
  }

  #status(): StreamStatus {
    const connected = this.session.liveConnection() !== undefined;
    return { connected, status: readPresence(this.session.store()).status };
  }
}
