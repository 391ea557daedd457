import { readdirSync, readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { constants } from "node:os";
import {
  ALLOWED_SIGNALS,
  type AllowedSignal,
  type MethodParams,
  type ProcessInfo,
} from "../../src/protocol/reach-methods";
import type { Family } from "./family";
import { type ReachPolicy, RpcFailure } from "./policy";

// Processes from /proc (Linux). Clock ticks are 100 per second on every Linux ABI Node runs on.
const CLK_TCK = 100;

interface Sample {
  at: number;
  ticks: number;
}
/** The previous list's CPU ticks per pid: cpu_percent is measured between two calls, no sleep needed. */
let previous = new Map<string, Sample>();
let users: Map<number, string> | undefined;
let bootTime: number | undefined;

async function bootSeconds(): Promise<number> {
  if (bootTime === undefined) {
    const stat = await readFile("/proc/stat", "utf8");
    bootTime = Number(/^btime (\d+)$/m.exec(stat)?.[1] ?? 0);
  }
  return bootTime;
}

async function userNames(): Promise<Map<number, string>> {
  if (!users) {
    users = new Map();
    const passwd = await readFile("/etc/passwd", "utf8").catch(() => "");
    for (const line of passwd.split("\n")) {
      const [name, , uid] = line.split(":");
      if (name && uid !== undefined) users.set(Number(uid), name);
    }
  }
  return users;
}

/** Parses `/proc/<pid>/stat`: the name sits in parentheses and may itself contain spaces and `)`. */
export function parseStat(text: string) {
  const open = text.indexOf("(");
  const close = text.lastIndexOf(")");
  const rest = text.slice(close + 2).split(" ");
  // rest[0] is field 3 (state); field N is rest[N - 3].
  return {
    name: text.slice(open + 1, close),
    state: rest[0],
    ppid: Number(rest[1]),
    ticks: Number(rest[11]) + Number(rest[12]),
    threads: Number(rest[17]),
    startTicks: Number(rest[19]),
  };
}

/**
 * One process from its three /proc files. Read synchronously: they are a few hundred bytes made by
 * the kernel on the spot, and an async read is four thread-pool round trips each (open, stat, read,
 * close) — on a busy host, 150 processes took 110–200 ms that way and 10–30 ms like this.
 */
function readProcess(
  pid: string,
  now: number,
  boot: number,
  names: Map<number, string>,
  next?: Map<string, Sample>,
): ProcessInfo | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    const s = parseStat(stat);
    const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1] ?? -1);
    const rssKb = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0);
    const startedAt = (boot + s.startTicks / CLK_TCK) * 1000;
    const prev = previous.get(pid);
    const cpu =
      prev && now - prev.at > 0 && now - prev.at < 60_000
        ? ((s.ticks - prev.ticks) / CLK_TCK / ((now - prev.at) / 1000)) * 100
        : (s.ticks / CLK_TCK / Math.max((now - startedAt) / 1000, 1)) * 100;
    next?.set(pid, { at: now, ticks: s.ticks });
    return {
      pid: Number(pid),
      ppid: s.ppid,
      name: s.name,
      cmdline: cmdline.split("\0").filter(Boolean).join(" "),
      user: names.get(uid) ?? String(uid),
      state: s.state,
      cpu_percent: Math.max(0, Math.round(cpu * 10) / 10),
      memory_bytes: rssKb * 1024,
      threads: s.threads,
      start_time: new Date(startedAt).toISOString(),
    };
  } catch {
    return null; // it exited while we read it
  }
}

/** Processes read between two turns of the event loop, so a host with thousands never stalls the socket. */
const BATCH = 256;

async function list(): Promise<ProcessInfo[]> {
  const now = Date.now();
  const [boot, names] = [await bootSeconds(), await userNames()];
  const next = new Map<string, Sample>();
  const pids = readdirSync("/proc").filter((e) => /^\d+$/.test(e));
  const out: ProcessInfo[] = [];
  for (let i = 0; i < pids.length; i++) {
    if (i > 0 && i % BATCH === 0) await new Promise((resolve) => setImmediate(resolve));
    const info = readProcess(pids[i], now, boot, names, next);
    if (info) out.push(info);
  }
  previous = next;
  return out;
}

async function get(pid: number): Promise<ProcessInfo> {
  const info = readProcess(String(pid), Date.now(), await bootSeconds(), await userNames());
  if (!info) throw new RpcFailure("not_found", `no process ${pid}`);
  return info;
}

/** The canonical name of a signal given by name or by this architecture's number; only the allow-list. */
export function signalName(signal: string | number): AllowedSignal {
  const name =
    typeof signal === "number"
      ? Object.entries(constants.signals).find(([, n]) => n === signal)?.[0]
      : signal;
  if (!name || !(ALLOWED_SIGNALS as readonly string[]).includes(name))
    throw new RpcFailure("bad_request", `signal ${signal} is not allowed (${ALLOWED_SIGNALS.join(", ")})`);
  return name as AllowedSignal;
}

async function signal(params: MethodParams<"processes.signal">, policy: ReachPolicy) {
  if (!policy.signals)
    throw new RpcFailure("policy", "signals are switched off on this host (OUTPOST_SIGNALS=off)");
  const name = signalName(params.signal);
  if (params.pid <= 1) throw new RpcFailure("policy", "pid 1 (and below) is never signalled");
  if (params.pid === process.pid || params.pid === process.ppid)
    throw new RpcFailure("policy", "the agent does not signal itself");
  const info = await get(params.pid);
  if (info.ppid === 2 || info.pid === 2 || info.cmdline === "")
    throw new RpcFailure("policy", "kernel threads are never signalled");
  if (params.start_time !== undefined && Date.parse(params.start_time) !== Date.parse(info.start_time))
    throw new RpcFailure(
      "conflict",
      `process ${params.pid} started at ${info.start_time}: the pid was reused`,
    );
  try {
    process.kill(params.pid, name);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ESRCH") throw new RpcFailure("not_found", `no process ${params.pid}`);
    if (code === "EPERM") throw new RpcFailure("policy", `the agent may not signal process ${params.pid}`);
    throw error;
  }
  return { pid: params.pid, signal: name, delivered: true };
}

export const family: Family = {
  async call(method, params, policy) {
    switch (method) {
      case "processes.list":
        return { processes: await list() };
      case "processes.get":
        return get((params as MethodParams<"processes.get">).pid);
      case "processes.signal":
        return signal(params as MethodParams<"processes.signal">, policy);
      default:
        throw new RpcFailure("unsupported", `${method} is not a processes method`);
    }
  },
};
