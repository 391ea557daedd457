import { readdir } from "node:fs/promises";
import { type ProcessesSection, SYSTEM_LIMITS } from "../../src/protocol/system-metrics";
import { readText } from "../inventory/budget";
import { round } from "./rates";

/** Linux's USER_HZ: /proc times are in these ticks on every architecture Node runs on. */
const TICKS_PER_SECOND = 100;

/** The fields of /proc/[pid]/stat the section needs. */
export interface ProcStat {
  pid: number;
  name: string;
  state: string;
  /** utime + stime, in ticks. */
  cpu_ticks: number;
  /** Ticks after boot when the process started (with pid, tells a reused pid apart). */
  start_ticks: number;
  rss_pages: number;
}

/** /proc/[pid]/stat → its fields; the name may hold spaces and parentheses, so it ends at the last ")". */
export function parsePidStat(text: string): ProcStat | null {
  const open = text.indexOf("(");
  const close = text.lastIndexOf(")");
  if (open < 0 || close < open) return null;
  const f = text
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  // f[0] is field 3 (state); utime is field 14, stime 15, starttime 22, rss 24.
  if (f.length < 22) return null;
  return {
    pid: Number(text.slice(0, open).trim()),
    name: text.slice(open + 1, close),
    state: f[0],
    cpu_ticks: Number(f[11]) + Number(f[12]),
    start_ticks: Number(f[19]),
    rss_pages: Number(f[21]),
  };
}

/** The page size, from our own RSS in pages (statm) and in kB (status): no native call needed. */
export function pageSizeFrom(statm: string | null, status: string | null): number {
  const pages = Number(statm?.split(" ")[1]);
  const kb = Number(/^VmRSS:\s+(\d+)/m.exec(status ?? "")?.[1]);
  if (!(pages > 0) || !(kb > 0)) return 4096;
  const size = Math.round((kb * 1024) / pages / 4096) * 4096;
  return size > 0 ? size : 4096;
}

/**
 * CPU percent of each process (of one core, as top shows it): over the time since the previous scan
 * when the process was seen then, else over its lifetime.
 */
export function topProcesses(
  now: ProcStat[],
  previous: Map<string, number>,
  elapsedSeconds: number,
  uptimeSeconds: number,
  pageSize: number,
): Extract<ProcessesSection, { available: true }> {
  const rows = now.map((p) => {
    const before = previous.get(`${p.pid}:${p.start_ticks}`);
    const seconds = before !== undefined ? elapsedSeconds : uptimeSeconds - p.start_ticks / TICKS_PER_SECOND;
    const ticks = before !== undefined ? Math.max(0, p.cpu_ticks - before) : p.cpu_ticks;
    const cpu = seconds > 0 ? (ticks / TICKS_PER_SECOND / seconds) * 100 : 0;
    return {
      pid: p.pid,
      name: p.name,
      cpu_percent: round(Math.max(0, cpu), 1),
      rss_bytes: p.rss_pages * pageSize,
    };
  });
  const n = SYSTEM_LIMITS.topProcesses;
  return {
    available: true,
    total: now.length,
    running: now.filter((p) => p.state === "R").length,
    top_cpu: [...rows].sort((a, b) => b.cpu_percent - a.cpu_percent || a.pid - b.pid).slice(0, n),
    top_memory: [...rows].sort((a, b) => b.rss_bytes - a.rss_bytes || a.pid - b.pid).slice(0, n),
  };
}

/** Scans /proc for the process count and the top processes by CPU and by memory. */
export class ProcessesCollector {
  #previous = new Map<string, number>();
  #previousAt = 0;
  #pageSize?: number;

  constructor(private readonly root = "") {}

  async collect(at: number): Promise<ProcessesSection> {
    let pids: string[];
    try {
      pids = (await readdir(`${this.root}/proc`)).filter((name) => /^\d+$/.test(name));
    } catch {
      return { available: false, reason: "/proc is not readable" };
    }
    this.#pageSize ??= pageSizeFrom(
      await readText(`${this.root}/proc/self/statm`),
      await readText(`${this.root}/proc/self/status`),
    );
    const uptime = Number((await readText(`${this.root}/proc/uptime`))?.split(" ")[0]) || 0;
    const stats: ProcStat[] = [];
    for (const pid of pids) {
      // A process may exit between readdir and the read: skipped.
      const text = await readText(`${this.root}/proc/${pid}/stat`);
      const stat = text ? parsePidStat(text) : null;
      if (stat) stats.push(stat);
    }
    const elapsed = this.#previousAt > 0 ? (at - this.#previousAt) / 1000 : 0;
    const section = topProcesses(stats, this.#previous, elapsed, uptime, this.#pageSize);
    this.#previous = new Map(stats.map((p) => [`${p.pid}:${p.start_ticks}`, p.cpu_ticks]));
    this.#previousAt = at;
    return section;
  }
}
