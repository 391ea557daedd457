import type { Series } from "../../src/metrics-history/buckets";
import type { MetricsSample } from "../../src/nodes/metrics-sample";
import type { SystemMetrics } from "../../src/protocol/system-metrics";

/** Longest a heartbeat's sample waits in memory before it is written to the object's storage. */
export const SAMPLE_FLUSH_MS = 30_000;
/** Most samples held in memory (a 1 s heartbeat fills it in half a minute). */
export const SAMPLE_BUFFER_MAX = 32;

/** One heartbeat as the object's storage keeps it: the sample, its fuller snapshot and its tier values. */
export interface BufferedSample {
  sample: MetricsSample;
  system?: SystemMetrics;
  values: Partial<Record<Series, number>>;
}

/**
 * Holds heartbeat samples in memory and writes them to the object's SQLite several at a time.
 * Locally every storage commit of every object is an fsync on workerd's one thread, and one commit
 * per heartbeat was most of a fleet's background fsyncs (issue 23); the samples of one flush are
 * written in one synchronous turn, so they are one commit. A flush happens when the buffer is full
 * or its oldest sample is `SAMPLE_FLUSH_MS` old, whenever the caller writes anyway (`flushNow`),
 * and before anything reads the samples.
 */
export class SampleBuffer {
  #pending: BufferedSample[] = [];

  constructor(private readonly write: (samples: BufferedSample[]) => void) {}

  /** Samples not yet written. */
  get size(): number {
    return this.#pending.length;
  }

  /** The newest sample, written or not (null when none is held here). */
  get newest(): MetricsSample | null {
    return this.#pending.at(-1)?.sample ?? null;
  }

  add(entry: BufferedSample, flushNow: boolean): void {
    this.#pending.push(entry);
    const oldest = this.#pending[0].sample.at;
    if (flushNow || this.#pending.length >= SAMPLE_BUFFER_MAX || entry.sample.at - oldest >= SAMPLE_FLUSH_MS)
      this.flush();
  }

  /** Writes what is held (synchronously: one commit). */
  flush(): void {
    if (this.#pending.length === 0) return;
    const samples = this.#pending;
    this.#pending = [];
    this.write(samples);
  }

  /** Drops what is held (the node was deleted). */
  discard(): void {
    this.#pending = [];
  }
}
