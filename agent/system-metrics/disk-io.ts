import { readdir } from "node:fs/promises";
import { type DiskIoSection, SYSTEM_LIMITS } from "../../src/protocol/system-metrics";
import { readText } from "../inventory/budget";
import { type CounterRates, round } from "./rates";

/** Completed reads/writes and bytes of one block device, from /proc/diskstats. */
export interface DiskCounters {
  device: string;
  reads: number;
  read_bytes: number;
  writes: number;
  write_bytes: number;
}

/** /proc/diskstats → counters per device (sectors are always 512 bytes there, whatever the disk's). */
export function parseDiskstats(text: string): DiskCounters[] {
  const out: DiskCounters[] = [];
  for (const line of text.split("\n")) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    out.push({
      device: f[2],
      reads: Number(f[3]),
      read_bytes: Number(f[5]) * 512,
      writes: Number(f[7]),
      write_bytes: Number(f[9]) * 512,
    });
  }
  return out;
}

// Loop and RAM disks mirror files and memory already counted elsewhere.
const VIRTUAL = /^(loop|ram|zram|fd|sr)\d/;

/** Whole disks only (partitions would count each byte twice): names listed in /sys/block. */
export function wholeDisks(counters: DiskCounters[], blockDevices: Set<string>): DiskCounters[] {
  return counters.filter((c) => blockDevices.has(c.device) && !VIRTUAL.test(c.device));
}

/** Read and write rates per whole disk; the first sample of a disk reports 0 (no baseline yet). */
export async function collectDiskIo(rates: CounterRates, at: number, root = ""): Promise<DiskIoSection> {
  const text = await readText(`${root}/proc/diskstats`);
  if (text === null) return { available: false, reason: "/proc/diskstats is not readable" };
  let block: Set<string>;
  try {
    block = new Set(await readdir(`${root}/sys/block`));
  } catch {
    return { available: false, reason: "/sys/block is not readable" };
  }
  const disks = wholeDisks(parseDiskstats(text), block).slice(0, SYSTEM_LIMITS.devices);
  rates.retain(new Set(disks.map((d) => `disk:${d.device}`)));
  return {
    available: true,
    devices: disks.map((d) => {
      const r = rates.update(`disk:${d.device}`, [d.read_bytes, d.write_bytes, d.reads, d.writes], at) ?? [
        0, 0, 0, 0,
      ];
      return {
        device: d.device,
        read_bytes_per_second: r[0],
        write_bytes_per_second: r[1],
        reads_per_second: round(r[2], 1),
        writes_per_second: round(r[3], 1),
      };
    }),
  };
}
