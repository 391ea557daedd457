// E2E helpers for command execution tests: a small REST client, bounded polling, pagination,
// an SSE reader with arrival times, agent enrolment, and a "this process is really gone" check.
import { readFileSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type AgentProcess, startAgent } from "./agent-process";
import { E2E_API_KEY } from "./stack";

export interface ApiResponse {
  status: number;
  json: any;
}
export type Api = (method: string, path: string, body?: unknown) => Promise<ApiResponse>;

export interface Execution {
  id: string;
  command_id: string;
  node_id: string | null;
  status: "pending" | "sent" | "completed" | "cancelled" | "expired";
  exit_code: number | null;
  output: string | null;
  sent_at: string | null;
  completed_at: string | null;
  cancelled_at: string | null;
}

export const TERMINAL = ["completed", "cancelled", "expired"];

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A client for `baseUrl()` (a function, so a restarted stack is picked up). */
export function apiClient(baseUrl: () => string, timeoutMs = 15_000): Api {
  return async (method, path, body) => {
    const res = await fetch(`${baseUrl()}${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${E2E_API_KEY}`,
        ...(body === undefined ? {} : { "Content-Type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    let json: unknown = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = { raw: text };
    }
    return { status: res.status, json };
  };
}

/** Polls `probe` until it returns something other than undefined; throws after `timeoutMs`. */
export async function waitUntil<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  { timeoutMs = 20_000, intervalMs = 200 } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (let i = 0; i < 100_000; i++) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline)
      throw new Error(`${what}: not within ${timeoutMs} ms${lastError ? ` (last error: ${lastError})` : ""}`);
    await sleep(intervalMs);
  }
  throw new Error(`${what}: too many attempts`);
}

/** Every row of a list endpoint (`path` may carry a query), page by page (at most `maxPages`). */
export async function listAll<T = Execution>(api: Api, path: string, maxPages = 50): Promise<T[]> {
  const rows: T[] = [];
  const sep = path.includes("?") ? "&" : "?";
  for (let page = 1; page <= maxPages; page++) {
    const res = await api("GET", `${path}${sep}page_size=100&page=${page}`);
    if (res.status !== 200)
      throw new Error(`GET ${path} page ${page}: ${res.status} ${JSON.stringify(res.json)}`);
    rows.push(...res.json.data);
    if (!res.json.meta.pagination.has_next) return rows;
  }
  throw new Error(`GET ${path}: more than ${maxPages} pages`);
}

export async function getExecution(api: Api, id: string): Promise<Execution> {
  const res = await api("GET", `/api/v1/command_executions/${id}`);
  if (res.status !== 200) throw new Error(`GET execution ${id}: ${res.status} ${JSON.stringify(res.json)}`);
  return res.json.data;
}

/** The executions of one command. */
export function executionsOf(api: Api, commandId: string): Promise<Execution[]> {
  return listAll(api, `/api/v1/command_executions?command_id=${commandId}`);
}

/** Waits until the execution has one of `statuses`; returns it. */
export async function waitForExecution(
  api: Api,
  id: string,
  statuses: string[] = TERMINAL,
  timeoutMs = 20_000,
): Promise<Execution> {
  let last: Execution | undefined;
  try {
    return await waitUntil(
      `execution ${id} ${statuses.join("|")}`,
      async () => {
        last = await getExecution(api, id);
        return statuses.includes(last.status) ? last : undefined;
      },
      { timeoutMs },
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}; last seen: ${JSON.stringify(last)}`);
  }
}

/** Waits until every execution of the command is terminal; returns them. */
export async function waitForCommand(api: Api, commandId: string, timeoutMs = 30_000): Promise<Execution[]> {
  let last: Execution[] = [];
  try {
    return await waitUntil(
      `command ${commandId} terminal`,
      async () => {
        last = await executionsOf(api, commandId);
        return last.length > 0 && last.every((e) => TERMINAL.includes(e.status)) ? last : undefined;
      },
      { timeoutMs, intervalMs: 300 },
    );
  } catch (err) {
    throw new Error(
      `${(err as Error).message}; last seen: ${JSON.stringify(last.map((e) => [e.node_id, e.status]))}`,
    );
  }
}

/** POST /api/v1/commands, expecting 201; returns the command. */
export async function createCommand(api: Api, body: Record<string, unknown>) {
  const res = await api("POST", "/api/v1/commands", body);
  if (res.status !== 201) throw new Error(`POST /api/v1/commands: ${res.status} ${JSON.stringify(res.json)}`);
  return res.json.data as { id: string; command_text: string; timeout: number | null };
}

export interface SseEvent {
  event: string;
  data: any;
  /** Date.now() when the event was parsed. */
  at: number;
}

/**
 * Reads a Server-Sent-Events response until the stream ends, `stop(event)` returns true, or
 * `timeoutMs` passes (then it returns what it has, with `timedOut`). `onEvent` is awaited for
 * each event before the next is read, so it can look at the world at that moment.
 */
export async function readSse(
  url: string,
  {
    timeoutMs = 20_000,
    onEvent,
    stop = (e: SseEvent) => e.event === "end",
  }: {
    timeoutMs?: number;
    onEvent?: (event: SseEvent) => Promise<void> | void;
    stop?: (event: SseEvent) => boolean;
  } = {},
): Promise<{ status: number; contentType: string | null; events: SseEvent[]; timedOut: boolean }> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const events: SseEvent[] = [];
  let status = 0;
  let contentType: string | null = null;
  let timedOut = false;
  try {
    const res = await fetch(url, {
      headers: { Authorization: `Bearer ${E2E_API_KEY}`, Accept: "text/event-stream" },
      signal: controller.signal,
    });
    status = res.status;
    contentType = res.headers.get("content-type");
    if (!res.body) return { status, contentType, events, timedOut };
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let cut = buffer.indexOf("\n\n");
      while (cut >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        cut = buffer.indexOf("\n\n");
        let event = "message";
        const data: string[] = [];
        for (const line of block.split("\n")) {
          if (line.startsWith(":")) continue;
          if (line.startsWith("event:")) event = line.slice(6).trim();
          else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
        }
        if (data.length === 0) continue;
        let parsed: unknown = data.join("\n");
        try {
          parsed = JSON.parse(parsed as string);
        } catch {
          // keep the text
        }
        const ev: SseEvent = { event, data: parsed, at: Date.now() };
        events.push(ev);
        await onEvent?.(ev);
        if (stop(ev)) {
          await reader.cancel().catch(() => {});
          return { status, contentType, events, timedOut };
        }
      }
    }
  } catch (err) {
    if (!controller.signal.aborted) throw err;
    timedOut = true;
  } finally {
    clearTimeout(timer);
  }
  return { status, contentType, events, timedOut };
}

/**
 * True when `pid` no longer exists. `process.kill(pid, 0)` is the test; a zombie (exited,
 * not yet reaped by an init that doesn't reap) counts as gone, since it runs nothing.
 */
export function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "ESRCH";
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return true;
  }
}

export interface Identity {
  node_id: string;
  cluster_name: string;
  id_type: string;
}

export async function readIdentity(stateDir: string): Promise<Identity> {
  return JSON.parse(await readFile(join(stateDir, "identity.json"), "utf8"));
}

/** A machine-id file (32 random hex chars) for a `persistent` agent. */
export async function fakeMachineId(path: string): Promise<string> {
  const id = [...crypto.getRandomValues(new Uint8Array(16))]
    .map((b) => b.toString(16).padStart(2, "0"))
    .join("");
  await writeFile(path, `${id}\n`);
  return path;
}

export interface AgentSpec {
  bundle: string;
  stateDir: string;
  key?: string;
  idType?: "random" | "persistent";
  machineIdFile?: string;
  heartbeatSeconds?: number;
  env?: Record<string, string>;
}

/** Starts an agent (enrolling with `key` when given) on Node 20. */
export function launchAgent(spec: AgentSpec): AgentProcess {
  return startAgent({
    bundle: spec.bundle,
    stateDir: spec.stateDir,
    env: {
      OUTPOST_ID_TYPE: spec.idType ?? "random",
      OUTPOST_HEARTBEAT_INTERVAL: String(spec.heartbeatSeconds ?? 2),
      ...(spec.machineIdFile ? { OUTPOST_MACHINE_ID_FILE: spec.machineIdFile } : {}),
      ...(spec.key ? { ENROLLMENT_KEY: spec.key } : {}),
      ...spec.env,
    },
  });
}

/** Creates an enrollment key for `cluster` with `uses` uses; returns the key blob. */
export async function enrollmentKey(api: Api, cluster: string, uses: number): Promise<string> {
  const res = await api("POST", `/api/v1/clusters/${cluster}/enrollment_keys`, { uses_remaining: uses });
  if (res.status !== 201)
    throw new Error(`enrollment key for ${cluster}: ${res.status} ${JSON.stringify(res.json)}`);
  return res.json.data.key;
}

/** The last `lines` lines of `text`. */
export function tail(text: string, lines = 40): string {
  return text.split("\n").slice(-lines).join("\n");
}
