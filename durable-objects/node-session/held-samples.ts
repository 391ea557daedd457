import { hostSeriesValues, type Series, SYSTEM_SERIES } from "../../src/metrics-history/buckets";
import type { MetricsSample } from "../../src/nodes/metrics-sample";
import type { SystemMetrics } from "../../src/protocol/system-metrics";

/** One heartbeat as the object's storage keeps it: the sample, its fuller snapshot and its tier values. */
export interface BufferedSample {
  sample: MetricsSample;
  system?: SystemMetrics;
  values: Partial<Record<Series, number>>;
  /** Read back from the attachment: the heartbeat carried a fuller snapshot (not held there). */
  hadSystem?: boolean;
}

/**
 * Longest text of held samples kept in a connection's attachment. The runtime keeps an attachment
 * across hibernation (and eviction) but holds at most 2,048 bytes (`serializeAttachment`), which
 * also carry partyserver's id and URL and the connection's other state. A string of Latin-1 text
 * is serialized as one byte a character; anything wider as two, which `heldBytes` counts.
 */
export const HELD_MAX_BYTES = 1_200;

type Compact = [
  at: number,
  cpu: [number, number, number, number, number],
  memory: [number, number, number],
  disk: [number, number, number],
  uptime: number,
  agent: [string, number, number, number, number, number, number, number, number, number],
  checks: [string, 0 | 1, string?][],
  /** The fuller snapshot's series (`SYSTEM_SERIES` order, null when absent); 0 without a snapshot. */
  system: (number | null)[] | 0,
];

/** A held sample as numbers in arrays: a heartbeat is ~250 bytes this way, ~700 as its objects. */
function compact({ sample, values, system }: BufferedSample): Compact {
  const { host, agent } = sample;
  return [
    sample.at,
    [host.cpu.cores, host.cpu.load_1m, host.cpu.load_5m, host.cpu.load_15m, host.cpu.usage_percent],
    [host.memory.total_bytes, host.memory.available_bytes, host.memory.used_bytes],
    [host.disk.total_bytes, host.disk.available_bytes, host.disk.used_bytes],
    host.uptime_seconds,
    [
      agent.version,
      agent.uptime_seconds,
      agent.rss_bytes,
      agent.commands_run,
      agent.commands_failed,
      agent.reconnects,
      agent.frames_in,
      agent.frames_out,
      agent.errors,
      agent.ssh_verifications,
    ],
    sample.checks.map((c) =>
      c.message === undefined ? [c.name, c.ok ? 1 : 0] : [c.name, c.ok ? 1 : 0, c.message],
    ),
    system ? SYSTEM_SERIES.map((name) => values[name] ?? null) : 0,
  ];
}

/**
 * Back to what the storage keeps. The fuller snapshot itself is not held (it is kilobytes); its
 * series are, so the history loses nothing; the tier values of the host series are recomputed.
 */
function expand(c: Compact): BufferedSample {
  const [at, cpu, memory, disk, uptime, a, checks, system] = c;
  const sample: MetricsSample = {
    at,
    host: {
      cpu: { cores: cpu[0], load_1m: cpu[1], load_5m: cpu[2], load_15m: cpu[3], usage_percent: cpu[4] },
      memory: { total_bytes: memory[0], available_bytes: memory[1], used_bytes: memory[2] },
      disk: { total_bytes: disk[0], available_bytes: disk[1], used_bytes: disk[2] },
      uptime_seconds: uptime,
    },
    agent: {
      version: a[0],
      uptime_seconds: a[1],
      rss_bytes: a[2],
      commands_run: a[3],
      commands_failed: a[4],
      reconnects: a[5],
      frames_in: a[6],
      frames_out: a[7],
      errors: a[8],
      ssh_verifications: a[9],
    },
    checks: checks.map(([name, ok, message]) =>
      message === undefined ? { name, ok: ok === 1 } : { name, ok: ok === 1, message },
    ),
  };
  const values: Partial<Record<Series, number>> = hostSeriesValues(sample.host);
  if (system !== 0)
    SYSTEM_SERIES.forEach((name, i) => {
      const value = system[i];
      if (value !== null && value !== undefined) values[name] = value;
    });
  return { sample, values, hadSystem: system !== 0 };
}

/** Appends a sample to the held text (a JSON array of compact samples). */
export function appendHeld(held: string | undefined, entry: BufferedSample): string {
  const item = JSON.stringify(compact(entry));
  return held ? `${held.slice(0, -1)},${item}]` : `[${item}]`;
}

/** The held samples, oldest first. */
export function readHeld(held: string | undefined): BufferedSample[] {
  return held ? (JSON.parse(held) as Compact[]).map(expand) : [];
}

/** How many bytes the held text takes in the attachment. */
export function heldBytes(held: string): number {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the Latin-1 range is the point.
  return /[^\u0000-\u00ff]/.test(held) ? held.length * 2 : held.length;
}
