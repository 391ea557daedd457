import type { CpuSection } from "../../src/protocol/system-metrics";
import { readText } from "../inventory/budget";
import { percent, round } from "./rates";

/** Jiffies of one line of /proc/stat (`cpu` is the total, `cpuN` one core). */
export interface CpuJiffies {
  user: number;
  nice: number;
  system: number;
  idle: number;
  iowait: number;
  irq: number;
  softirq: number;
  steal: number;
}

/** /proc/stat → jiffies per line: key `all` for the aggregate, the core number otherwise. */
export function parseProcStat(text: string): Map<"all" | number, CpuJiffies> {
  const out = new Map<"all" | number, CpuJiffies>();
  for (const line of text.split("\n")) {
    const m = /^cpu(\d*)\s+(.*)$/.exec(line);
    if (!m) continue;
    const f = m[2].trim().split(/\s+/).map(Number);
    // guest and guest_nice are already counted in user and nice.
    const [user, nice, system, idle, iowait = 0, irq = 0, softirq = 0, steal = 0] = f;
    out.set(m[1] === "" ? "all" : Number(m[1]), { user, nice, system, idle, iowait, irq, softirq, steal });
  }
  return out;
}

/** Shares of CPU time between two readings, in percent; null when no time passed (or the counters reset). */
export function cpuShares(before: CpuJiffies, after: CpuJiffies) {
  const d = (k: keyof CpuJiffies) => after[k] - before[k];
  const keys = Object.keys(after) as (keyof CpuJiffies)[];
  if (keys.some((k) => d(k) < 0)) return null;
  const total = keys.reduce((sum, k) => sum + d(k), 0);
  if (total <= 0) return null;
  const busy = total - d("idle") - d("iowait");
  return {
    usage_percent: percent(busy, total),
    user_percent: percent(d("user") + d("nice"), total),
    system_percent: percent(d("system") + d("irq") + d("softirq"), total),
    iowait_percent: percent(d("iowait"), total),
    steal_percent: percent(d("steal"), total),
  };
}

/** "cpu MHz" lines of /proc/cpuinfo, in processor order (when cpufreq is missing, e.g. in VMs). */
export function parseCpuinfoMhz(text: string): number[] {
  return [...text.matchAll(/^cpu MHz\s*:\s*([\d.]+)/gm)].map((m) => round(Number(m[1]), 0));
}

/**
 * Per-core and total CPU usage, with iowait and steal, from /proc/stat deltas. The first call only
 * takes the baseline: its shares span the time since boot.
 */
export class CpuCollector {
  #previous = new Map<"all" | number, CpuJiffies>();

  constructor(private readonly root = "") {}

  async collect(): Promise<CpuSection> {
    const text = await readText(`${this.root}/proc/stat`);
    if (text === null) return { available: false, reason: "/proc/stat is not readable" };
    const now = parseProcStat(text);
    const zero: CpuJiffies = {
      user: 0,
      nice: 0,
      system: 0,
      idle: 0,
      iowait: 0,
      irq: 0,
      softirq: 0,
      steal: 0,
    };
    const shares = (key: "all" | number) => {
      const after = now.get(key);
      if (!after) return null;
      return cpuShares(this.#previous.get(key) ?? zero, after) ?? cpuShares(zero, after);
    };
    const total = shares("all");
    const cores = [];
    const mhz = await this.#frequencies([...now.keys()].filter((k) => k !== "all") as number[]);
    for (const key of now.keys()) {
      if (key === "all") continue;
      const s = shares(key);
      if (!s) continue;
      cores.push({
        id: key,
        usage_percent: s.usage_percent,
        iowait_percent: s.iowait_percent,
        steal_percent: s.steal_percent,
        frequency_mhz: mhz.get(key) ?? null,
      });
    }
    this.#previous = now;
    if (!total) return { available: false, reason: "/proc/stat has no cpu line" };
    return { available: true, ...total, cores };
  }

  async #frequencies(ids: number[]): Promise<Map<number, number>> {
    const out = new Map<number, number>();
    const khz = await Promise.all(
      ids.map((id) => readText(`${this.root}/sys/devices/system/cpu/cpu${id}/cpufreq/scaling_cur_freq`)),
    );
    ids.forEach((id, i) => {
      const value = Number(khz[i]?.trim());
      if (khz[i] !== null && Number.isFinite(value) && value > 0) out.set(id, round(value / 1000, 0));
    });
    if (out.size === 0) {
      const info = await readText(`${this.root}/proc/cpuinfo`);
      if (info) for (const [i, mhz] of parseCpuinfoMhz(info).entries()) out.set(i, mhz);
    }
    return out;
  }
}
