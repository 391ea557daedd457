import { isoSeconds } from "../time";
import type { MetricsSample } from "./metrics-sample";

const GIB = 1024 ** 3;

function gb(bytes: number): number {
  return Math.round((bytes / GIB) * 10) / 10;
}

function percent(part: number, total: number): number {
  return total > 0 ? Math.round((part / total) * 1000) / 10 : 0;
}

/** `1d 1h 1m`, as the contract renders uptime. */
export function humanUptime(seconds: number): string {
  const d = Math.floor(seconds / 86_400);
  const h = Math.floor((seconds % 86_400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  return d > 0 ? `${d}d ${h}h ${m}m` : h > 0 ? `${h}h ${m}m` : `${m}m`;
}

function storage(total: number, available: number) {
  const used = Math.max(total - available, 0);
  return {
    available_bytes: available,
    available_gb: gb(available),
    total_bytes: total,
    total_gb: gb(total),
    usage_percent: percent(used, total),
    used_bytes: used,
    used_gb: gb(used),
  };
}

/** The host part of the seed's `HostMetricsResponse` from one heartbeat sample. */
export function hostMetricsView(sample: MetricsSample) {
  const { host } = sample;
  return {
    cpu: { ...host.cpu },
    disk: storage(host.disk.total_bytes, host.disk.available_bytes),
    memory: storage(host.memory.total_bytes, host.memory.available_bytes),
    timestamp: isoSeconds(sample.at),
    uptime: { human: humanUptime(host.uptime_seconds), seconds: host.uptime_seconds },
  };
}

/** The agent part of the seed's `AgentMetricsResponse`; sources this agent doesn't have are null. */
export function agentMetricsView(sample: MetricsSample) {
  const { agent, checks } = sample;
  return {
    application: {
      version: agent.version,
      uptime_seconds: agent.uptime_seconds,
      rss_bytes: agent.rss_bytes,
      reconnects: agent.reconnects,
      frames_in: agent.frames_in,
      frames_out: agent.frames_out,
      errors: agent.errors,
    },
    commands: { run: agent.commands_run, failed: agent.commands_failed },
    discovery: null,
    health_check: { status: checks.every((c) => c.ok) ? ("passing" as const) : ("failing" as const), checks },
    oban_queues: null,
    proxy: null,
    ssh: { verifications: agent.ssh_verifications },
    timestamp: isoSeconds(sample.at),
    vpn: null,
  };
}
