import type { HostMetrics } from "../../src/protocol/frames";
import type { SystemDetail, SystemMetrics } from "../../src/protocol/system-metrics";
import { type Clock, Interval } from "../interval";
import type { SystemSampler } from "./sampler";

/** Default `metrics_detail_interval_seconds` until the server's config says otherwise. */
export const DEFAULT_DETAIL_INTERVAL_SECONDS = 60;

/** The frames the reporter sends. */
export type SystemFrame =
  | { type: "metrics"; host: HostMetrics; system: SystemMetrics }
  | { type: "metrics_detail"; detail: SystemDetail };

/** What the reporter needs from the agent around it. */
export interface SystemReporterDeps {
  sampler: () => Promise<SystemSampler>;
  host: () => Promise<HostMetrics>;
  /** Sends a frame; false when the connection is down. */
  send: (frame: SystemFrame) => boolean;
  clock: Clock;
  onError: (error: Error) => void;
}

/**
 * When the fuller metrics are sampled: the cheap sections with every heartbeat, the detail sections
 * in their own `metrics_detail` frame once per detail interval (so no heartbeat frame carries
 * both), and, while the server has a live stream open, a `metrics` frame every `interval_seconds`.
 * The stream stops when the server says so or the connection drops (the server starts it again
 * after the next hello if its subscribers are still there).
 */
export class SystemReporter {
  #detailMs = DEFAULT_DETAIL_INTERVAL_SECONDS * 1000;
  #lastDetailAt = 0;
  #detailRunning = false;
  #stream?: Interval;

  constructor(private readonly deps: SystemReporterDeps) {}

  /** The server's `metrics_detail_interval_seconds`. */
  setDetailInterval(seconds: number): void {
    this.#detailMs = seconds * 1000;
  }

  /** The cheap sections for a heartbeat or a stream frame; starts a detail collection when one is due. */
  async sample(): Promise<SystemMetrics> {
    const at = this.deps.clock.now();
    if (at - this.#lastDetailAt >= this.#detailMs && !this.#detailRunning) {
      this.#lastDetailAt = at;
      void this.#sendDetail(at);
    }
    return (await this.deps.sampler()).sample(at);
  }

  async #sendDetail(at: number): Promise<void> {
    this.#detailRunning = true;
    try {
      const detail = await (await this.deps.sampler()).sampleDetail(at);
      // Not sent (offline): due again at once, so the server has it soon after the reconnect.
      if (!this.deps.send({ type: "metrics_detail", detail })) this.#lastDetailAt = 0;
    } catch (error) {
      this.deps.onError(error as Error);
    } finally {
      this.#detailRunning = false;
    }
  }

  /** Starts (or re-times) the live stream; null stops it. */
  stream(intervalSeconds: number | null): void {
    if (intervalSeconds === null) {
      this.stop();
      return;
    }
    if (this.#stream) {
      this.#stream.setPeriod(intervalSeconds * 1000);
      return;
    }
    this.#stream = new Interval(() => void this.#streamOnce(), intervalSeconds * 1000, this.deps.clock);
    this.#stream.start();
    void this.#streamOnce();
  }

  /** True while a live stream is open. */
  get streaming(): boolean {
    return this.#stream !== undefined;
  }

  stop(): void {
    this.#stream?.stop();
    this.#stream = undefined;
  }

  async #streamOnce(): Promise<void> {
    try {
      const [host, system] = await Promise.all([this.deps.host(), this.sample()]);
      if (!this.deps.send({ type: "metrics", host, system })) this.stop();
    } catch (error) {
      this.deps.onError(error as Error);
    }
  }
}
