import { join } from "node:path";
import { readJsonFile, writeFileAtomic } from "./files";
import { type Identity, identityPath, loadIdentity } from "./identity";

export type ConnectionState = "connecting" | "connected" | "disconnected" | "stopped";

/** What the running agent publishes in `<state>/status.json` for `outpost-agent status`. */
export interface AgentStatus {
  pid: number;
  version: string;
  node_id: string;
  cluster_name: string;
  server: string;
  connection: ConnectionState;
  connected_since: string | null;
  last_heartbeat_at: string | null;
  /** Round trip of the last application `ping` through the node's Durable Object. */
  server_rtt_ms?: number | null;
  started_at: string;
  updated_at: string;
}

/** status.json inside the state dir. */
export function statusPath(stateDir: string): string {
  return join(stateDir, "status.json");
}

/**
 * The running agent's status file. Updates are written in order, one at a time, and
 * atomically, so `status` never reads half a file; errors are reported, never thrown.
 */
export class StatusFile {
  private current: AgentStatus;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly stateDir: string,
    initial: Omit<AgentStatus, "updated_at">,
    private readonly onError: (error: Error) => void = () => {},
  ) {
    this.current = { ...initial, updated_at: new Date().toISOString() };
  }

  /** The latest status. */
  get value(): AgentStatus {
    return this.current;
  }

  /** Merges `patch` and schedules a write. */
  update(patch: Partial<AgentStatus>): Promise<void> {
    this.current = { ...this.current, ...patch, updated_at: new Date().toISOString() };
    const snapshot = `${JSON.stringify(this.current, null, 2)}\n`;
    this.writing = this.writing
      .then(() => writeFileAtomic(statusPath(this.stateDir), snapshot, 0o644))
      .catch((error) => this.onError(error as Error));
    return this.writing;
  }
}

/** True when a process with that pid exists (and we may signal it, or it's someone else's). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function ago(iso: string | null, now: number): string {
  if (!iso) return "never";
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  return `${iso} (${seconds} s ago)`;
}

/**
 * Renders `outpost-agent status` from the identity and the running agent's status file.
 * `running` is false when no live agent owns the status file.
 */
export function formatStatus(
  identity: Identity,
  status: AgentStatus | null,
  running: boolean,
  now = Date.now(),
): string {
  const state = !running
    ? "not running"
    : status?.connection === "connected"
      ? `connected since ${status.connected_since} (pid ${status.pid})`
      : `${status?.connection ?? "unknown"} (pid ${status?.pid})`;
  const rows: [string, string][] = [
    ["node id", identity.node_id],
    ["id type", identity.id_type],
    ["cluster", status?.cluster_name || identity.cluster_name],
    ["server", identity.server],
    ["connection", state],
    ["last heartbeat", ago(status?.last_heartbeat_at ?? null, now)],
    [
      "server rtt",
      typeof status?.server_rtt_ms === "number"
        ? `${status.server_rtt_ms} ms (ping through the node's session)`
        : "—",
    ],
    ["agent version", status?.version ?? "unknown"],
  ];
  return rows.map(([k, value]) => `${`${k}:`.padEnd(16)}${value}`).join("\n");
}

/** Reads the status file; null when absent or unreadable. */
export async function readStatus(stateDir: string): Promise<AgentStatus | null> {
  const raw = await readJsonFile(statusPath(stateDir)).catch(() => null);
  return raw && typeof raw === "object" ? (raw as AgentStatus) : null;
}

/**
 * `outpost-agent status`: prints the node's identity and the running agent's state.
 * Exit 0 when an agent is running with this state dir, 1 when not (or not enrolled).
 */
export async function statusCommand(
  stateDir: string,
  out: (text: string) => void,
  err: (text: string) => void = out,
): Promise<number> {
  let identity: Identity | null;
  try {
    identity = await loadIdentity(stateDir);
  } catch (error) {
    // The state dir is 0700 root: an operator without sudo gets the fix, not a stack trace.
    const cause = (error as Error).cause as NodeJS.ErrnoException | undefined;
    const code = (error as NodeJS.ErrnoException).code ?? cause?.code;
    if (code !== "EACCES" && code !== "EPERM") throw error;
    err(
      `outpost-agent status: permission denied reading ${stateDir}; run it as root: sudo outpost-agent status\n`,
    );
    return 1;
  }
  if (!identity) {
    out(`not enrolled (no ${identityPath(stateDir)})\n`);
    return 1;
  }
  const status = await readStatus(stateDir);
  const running = status !== null && status.connection !== "stopped" && isProcessAlive(status.pid);
  out(`${formatStatus(identity, status, running)}\n`);
  return running ? 0 : 1;
}
