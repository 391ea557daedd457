import { readFile, statfs } from "node:fs/promises";
import { cpus, freemem, loadavg, totalmem, uptime } from "node:os";
import type { AgentMetrics, HostMetrics } from "../src/protocol/frames";
import { sshVerificationsSoFar } from "./ssh-verifications";
import { AGENT_VERSION } from "./version";

/** The agent's own counters since start, reported in every heartbeat. */
export interface AgentCounters {
  commands_run: number;
  commands_failed: number;
  reconnects: number;
  frames_in: number;
  frames_out: number;
  errors: number;
}

// SSH verifications are counted by other processes in the state dir (./ssh-verifications.ts);
// each counters object remembers where, and how many there were when it was created.
const sshBaselines = new WeakMap<AgentCounters, { stateDir: string; base: number }>();

/** Fresh zeroed counters; with `stateDir`, SSH verifications made from now on are counted too. */
export function createCounters(stateDir?: string): AgentCounters {
  const counters = {
    commands_run: 0,
    commands_failed: 0,
    reconnects: 0,
    frames_in: 0,
    frames_out: 0,
    errors: 0,
  };
  if (stateDir) sshBaselines.set(counters, { stateDir, base: sshVerificationsSoFar(stateDir) });
  return counters;
}

function sshVerifications(counters: AgentCounters): number {
  const baseline = sshBaselines.get(counters);
  if (!baseline) return 0;
  const now = sshVerificationsSoFar(baseline.stateDir);
  // A removed or truncated counter file starts again from zero.
  return now >= baseline.base ? now - baseline.base : now;
}

interface CpuTimes {
  idle: number;
  total: number;
}

function cpuTimes(): CpuTimes {
  let idle = 0;
  let total = 0;
  for (const cpu of cpus()) {
    const t = cpu.times;
    idle += t.idle;
    total += t.user + t.nice + t.sys + t.idle + t.irq;
  }
  return { idle, total };
}

// MemAvailable (Linux ≥ 3.14) counts reclaimable cache; os.freemem() does not, and
// would make every busy machine look out of memory.
async function memory(): Promise<HostMetrics["memory"]> {
  const total = totalmem();
  let available = freemem();
  try {
    const match = /^MemAvailable:\s+(\d+)\s+kB/m.exec(await readFile("/proc/meminfo", "utf8"));
    if (match) available = Number(match[1]) * 1024;
  } catch {
    // not Linux: freemem() it is
  }
  available = Math.min(available, total);
  return { total_bytes: total, available_bytes: available, used_bytes: total - available };
}

async function rootDisk(): Promise<HostMetrics["disk"]> {
  try {
    const s = await statfs("/");
    const total = s.blocks * s.bsize;
    const available = s.bavail * s.bsize;
    return { total_bytes: total, available_bytes: available, used_bytes: (s.blocks - s.bfree) * s.bsize };
  } catch {
    return { total_bytes: 0, available_bytes: 0, used_bytes: 0 };
  }
}

/**
 * Samples host metrics. CPU usage is the busy share of CPU time since the previous
 * sample (the first sample measures since the sampler was created).
 * @example const sampler = createHostSampler(); const host = await sampler.sample()
 */
export function createHostSampler(): { sample(): Promise<HostMetrics> } {
  let previous = cpuTimes();
  return {
    async sample() {
      const now = cpuTimes();
      const totalDelta = now.total - previous.total;
      const idleDelta = now.idle - previous.idle;
      previous = now;
      const usage = totalDelta > 0 ? Math.max(0, Math.min(100, (1 - idleDelta / totalDelta) * 100)) : 0;
      const [load1, load5, load15] = loadavg();
      return {
        cpu: {
          cores: cpus().length,
          load_1m: load1,
          load_5m: load5,
          load_15m: load15,
          usage_percent: Math.round(usage * 10) / 10,
        },
        memory: await memory(),
        disk: await rootDisk(),
        uptime_seconds: Math.floor(uptime()),
      };
    },
  };
}

/** The agent's self-metrics for a heartbeat. */
export function agentMetrics(counters: AgentCounters): AgentMetrics {
  return {
    version: AGENT_VERSION,
    uptime_seconds: Math.floor(process.uptime()),
    rss_bytes: process.memoryUsage.rss(),
    ...counters,
    ssh_verifications: sshVerifications(counters),
  };
}

/**
 * Self-checks sent with each heartbeat; a failing one makes the node `unhealthy`.
 * `disk` fails when the root filesystem is at least `diskPercent` full (df's notion of
 * use: used / (used + available to unprivileged users)).
 */
export function healthChecks(
  host: HostMetrics,
  diskPercent: number,
): { name: string; ok: boolean; message?: string }[] {
  const { used_bytes: used, available_bytes: available } = host.disk;
  if (used + available === 0) return [{ name: "disk", ok: true, message: "root filesystem size unknown" }];
  const percent = (used / (used + available)) * 100;
  const rounded = Math.ceil(percent);
  const free = `${(available / 1024 ** 3).toFixed(1)} GiB free`;
  return percent >= diskPercent
    ? [
        {
          name: "disk",
          ok: false,
          message: `root filesystem ${rounded}% full (${free}, threshold ${diskPercent}%)`,
        },
      ]
    : [{ name: "disk", ok: true, message: `root filesystem ${rounded}% full (${free})` }];
}
