import type { MetricsSample } from "../../src/nodes/metrics-sample";
import type { SystemMetrics } from "../../src/protocol/system-metrics";
import { appendHeld, type BufferedSample, HELD_MAX_BYTES, heldBytes, readHeld } from "./held-samples";

export type { BufferedSample };

/** Longest a heartbeat's sample is held before it is written to the object's storage. */
export const SAMPLE_FLUSH_MS = 60_000;
/** Most samples held at once (the attachment's size usually stops it first: ~4 heartbeats). */
export const SAMPLE_BUFFER_MAX = 8;

/** Where held samples live: a connection's attachment (kept by the runtime across hibernation). */
export interface HeldSlot {
  read(): string | undefined;
  write(held: string | undefined): void;
}

/**
 * Holds heartbeat samples and writes them to the object's SQLite several at a time. Locally every
 * storage commit of every object is an fsync on workerd's one thread, and one commit per heartbeat
 * was most of a fleet's background fsyncs (issue 23). A hibernated session is evicted between two
 * 15 s heartbeats, so the samples are held in the connection's attachment (which survives that), in
 * a compact form (`./held-samples`), not in this instance's memory. The samples of one flush are
 * written in one synchronous turn, so they are one commit. A flush happens when the attachment's
 * budget or `SAMPLE_BUFFER_MAX` is reached or the oldest is `SAMPLE_FLUSH_MS` old, whenever the
 * caller writes anyway (`flushNow`), when the connection closes, and before anything reads samples.
 *
 * The fuller snapshot (kilobytes) is kept in this instance only, for the newest sample; an instance
 * evicted meanwhile loses it, and `/metrics/system` shows the previous one kept (`keepSystem`).
 */
export class SampleBuffer {
  #system?: { at: number; system: SystemMetrics };

  constructor(
    private readonly write: (samples: BufferedSample[]) => void,
    private readonly slots: () => HeldSlot[],
  ) {}

  /** The newest held sample (null when none is held). */
  get newest(): MetricsSample | null {
    let newest: MetricsSample | null = null;
    for (const slot of this.slots()) {
      const last = readHeld(slot.read()).at(-1)?.sample;
      if (last && (!newest || last.at > newest.at)) newest = last;
    }
    return newest;
  }

  /** Holds `entry` in `slot` (the heartbeat's connection), or writes it and what is held with it. */
  add(entry: BufferedSample, flushNow: boolean, slot: HeldSlot): void {
    const before = slot.read();
    const earlier = this.#restore(before);
    const held = appendHeld(before, entry);
    const oldest = earlier[0]?.sample.at ?? entry.sample.at;
    if (
      flushNow ||
      earlier.length + 1 >= SAMPLE_BUFFER_MAX ||
      heldBytes(held) > HELD_MAX_BYTES ||
      entry.sample.at - oldest >= SAMPLE_FLUSH_MS
    ) {
      const samples = [...earlier, entry];
      slot.write(undefined);
      this.#system = undefined;
      this.write(samples);
      return;
    }
    slot.write(held);
    if (entry.system) this.#system = { at: entry.sample.at, system: entry.system };
  }

  /** Writes what every slot (and `also`: a closing connection's) holds, synchronously: one commit. */
  flush(also: HeldSlot[] = []): void {
    const samples: BufferedSample[] = [];
    for (const slot of [...also, ...this.slots()]) {
      const held = slot.read();
      if (!held) continue;
      samples.push(...this.#restore(held));
      slot.write(undefined);
    }
    if (samples.length === 0) return;
    samples.sort((a, b) => a.sample.at - b.sample.at);
    this.#system = undefined;
    this.write(samples);
  }

  /** The held samples, with the newest's fuller snapshot when this instance still has it. */
  #restore(held: string | undefined): BufferedSample[] {
    const samples = readHeld(held);
    const kept = this.#system;
    for (const s of samples) if (kept && s.sample.at === kept.at) s.system = kept.system;
    return samples;
  }

  /** Drops what is held (the node was deleted). */
  discard(): void {
    for (const slot of this.slots()) slot.write(undefined);
    this.#system = undefined;
  }
}
