// Linux /proc readings: RSS, CPU time, open files, listening ports; a sampler that tracks peak/mean
// RSS and CPU % over a window for named processes or groups of processes (summed over the group).
import { readdirSync, readFileSync, readlinkSync } from "node:fs";

const CLK_TCK = 100;

export function rssBytes(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Anonymous and file-backed resident memory from /proc/<pid>/status (bytes). */
export function rssParts(pid: number): { anon: number; file: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) * 1024;
    return { anon: kb("RssAnon"), file: kb("RssFile") + kb("RssShmem") };
  } catch {
    return { anon: 0, file: 0 };
  }
}

/** utime + stime of the process, in seconds (0 when it is gone). */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return 0;
  }
}

/**
 * Time the process's threads ran and time they were runnable but waited for a core (run queue),
 * in seconds, summed over its threads (/proc/<pid>/task/<tid>/schedstat). On a shared machine the
 * wait is CPU the process wanted and did not get: what other processes' load costs a measurement.
 */
export function schedSeconds(pid: number): { run: number; wait: number } {
  let run = 0;
  let wait = 0;
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        const [r, w] = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ").map(Number);
        run += r / 1e9;
        wait += w / 1e9;
      } catch {
        // the thread ended
      }
    }
  } catch {
    // the process ended
  }
  return { run, wait };
}

export interface ProcFigures {
  peak_rss: number;
  mean_rss: number;
  /** CPU time over wall time, in % of one core (200 % = both cores of this machine). */
  cpu_percent: number;
  /** CPU time used over the window. */
  cpu_seconds: number;
}

/** Samples RSS and CPU of named processes (or groups) every `intervalMs` until stop(). */
export class ProcSampler {
  private timer: NodeJS.Timeout;
  private readonly groups: Record<string, number[]>;
  private readonly peak = new Map<string, number>();
  private readonly sums = new Map<string, { total: number; n: number }>();
  private readonly cpuStart = new Map<string, number>();
  private readonly started = performance.now();

  constructor(pids: Record<string, number | number[]>, intervalMs = 250) {
    this.groups = Object.fromEntries(
      Object.entries(pids).map(([k, v]) => [k, (Array.isArray(v) ? v : [v]).filter((p) => p > 0)]),
    );
    for (const [name, group] of Object.entries(this.groups)) this.cpuStart.set(name, this.cpu(group));
    this.sample();
    // Unref'd: a benchmark that failed before stop() must still let the runner exit (and free the
    // shared bench lock); a fan-out run once held it for minutes after writing its results.
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  private cpu(group: number[]) {
    return group.reduce((s, pid) => s + cpuSeconds(pid), 0);
  }

  private sample() {
    for (const [name, group] of Object.entries(this.groups)) {
      const rss = group.reduce((s, pid) => s + rssBytes(pid), 0);
      if (!rss) continue;
      this.peak.set(name, Math.max(this.peak.get(name) ?? 0, rss));
      const s = this.sums.get(name) ?? { total: 0, n: 0 };
      s.total += rss;
      s.n++;
      this.sums.set(name, s);
    }
  }

  stop(): Record<string, ProcFigures> {
    this.sample();
    clearInterval(this.timer);
    const wall = (performance.now() - this.started) / 1000;
    const out: Record<string, ProcFigures> = {};
    for (const [name, group] of Object.entries(this.groups)) {
      const s = this.sums.get(name) ?? { total: 0, n: 1 };
      const cpu = this.cpu(group) - (this.cpuStart.get(name) ?? 0);
      out[name] = {
        peak_rss: this.peak.get(name) ?? 0,
        mean_rss: s.total / s.n,
        cpu_percent: (cpu / wall) * 100,
        cpu_seconds: cpu,
      };
    }
    return out;
  }
}

/** CPU % of every process on the machine over `ms` (top consumers), to show what else was running. */
export async function machineCpu(
  ms: number,
  top = 8,
): Promise<{ pid: number; cmd: string; cpu_percent: number }[]> {
  const { readdirSync } = await import("node:fs");
  const pids = readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .map(Number);
  const before = new Map(pids.map((p) => [p, cpuSeconds(p)]));
  await new Promise((r) => setTimeout(r, ms));
  return pids
    .map((pid) => {
      let cmd = "";
      try {
        cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim().slice(0, 120);
      } catch {
        // gone
      }
      return { pid, cmd, cpu_percent: ((cpuSeconds(pid) - (before.get(pid) ?? 0)) / (ms / 1000)) * 100 };
    })
    .filter((p) => p.cpu_percent > 0)
    .sort((a, b) => b.cpu_percent - a.cpu_percent)
    .slice(0, top)
    .map((p) => ({ ...p, cpu_percent: Math.round(p.cpu_percent) }));
}

/** Open file descriptors of the process (0 when it is gone). */
export function openFileCount(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return 0;
  }
}

/** The process's soft limit on open files (RLIMIT_NOFILE), or null when unknown or unlimited. */
export function openFileLimit(pid: number): number | null {
  try {
    const m = /^Max open files\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/limits`, "utf8"));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** TCP ports the process listens on (IPv4, from /proc/<pid>/net/tcp matched to its socket descriptors). */
export function listeningPorts(pid: number): number[] {
  try {
    const inodes = new Set<string>();
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m) inodes.add(m[1]);
      } catch {
        // the descriptor closed while listing
      }
    }
    const ports: number[] = [];
    for (const line of readFileSync(`/proc/${pid}/net/tcp`, "utf8").split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      // f[1] local address "0100007F:1F90", f[3] state (0A = LISTEN), f[9] inode
      if (f[3] === "0A" && inodes.has(f[9])) ports.push(Number.parseInt(f[1].split(":")[1], 16));
    }
    return ports;
  } catch {
    return [];
  }
}
