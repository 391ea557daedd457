import { type IncomingMessage, request } from "node:http";
import type { LogEntry, MethodParams, StreamParams } from "../../src/protocol/reach-methods";
import { unixSocket } from "../unix-socket";
import { lineLevel, matches } from "./log-lines";
import { type ReachPolicy, RpcFailure } from "./policy";

// A container's logs through the Docker Engine API on its unix socket (node:http, no native
// dependency, no docker CLI). Off unless the host owner switches it on (OUTPOST_DOCKER_LOGS=on): the
// socket reaches every container, whose logs may hold secrets.

/** Lines one query reads from the end of a container's log before answering with what it found. */
export const DOCKER_SCAN_LINES = 10_000;
const MAX_MESSAGE = 16 * 1024;
const CONTAINER = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;

function enabled(policy: ReachPolicy): void {
  if (!policy.docker)
    throw new RpcFailure("policy", "docker logs are switched off on this host (set OUTPOST_DOCKER_LOGS=on)");
}

function container(name: string | undefined): string {
  if (!name || !CONTAINER.test(name))
    throw new RpcFailure("bad_request", "source_name must be a container name or ID");
  return name;
}

/** A GET on the Engine API; the response streams (a log follow never ends by itself). */
function get(socket: string, path: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const options = {
      createConnection: unixSocket(socket),
      path,
      method: "GET",
      headers: { host: "docker" },
    };
    const req = request(options, resolve);
    req.on("error", (error: NodeJS.ErrnoException) =>
      reject(
        ["ENOENT", "ECONNREFUSED"].includes(error.code ?? "")
          ? new RpcFailure("unsupported", `docker is not available on this host (no socket at ${socket})`)
          : error.code === "EACCES"
            ? new RpcFailure("policy", `the agent may not use ${socket} (add it to the docker group)`)
            : error,
      ),
    );
    req.end();
  });
}

async function body(res: IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of res) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

async function failed(res: IncomingMessage, name: string): Promise<never> {
  const text = (await body(res)).toString("utf8").slice(0, 512);
  if (res.statusCode === 404) throw new RpcFailure("not_found", `no container ${name}`);
  throw new RpcFailure("internal", `docker answered ${res.statusCode}: ${text}`);
}

/** Whether the container has a TTY: then its log is raw, otherwise 8-byte multiplexed frames. */
async function hasTty(socket: string, name: string): Promise<boolean> {
  const res = await get(socket, `/containers/${encodeURIComponent(name)}/json`);
  if (res.statusCode !== 200) return failed(res, name);
  const info = JSON.parse((await body(res)).toString("utf8")) as { Config?: { Tty?: boolean } };
  return info.Config?.Tty === true;
}

/**
 * Splits the Engine API's log stream into lines with their stream: without a TTY each frame is an
 * 8-byte header (stream 1 stdout / 2 stderr, 3 zero bytes, big-endian length) and its payload.
 */
export class DockerLogSplitter {
  private pending = Buffer.alloc(0);
  private partial: Record<string, string> = { stdout: "", stderr: "" };

  constructor(private readonly tty: boolean) {}

  push(chunk: Buffer): { stream: "stdout" | "stderr"; line: string }[] {
    const out: { stream: "stdout" | "stderr"; line: string }[] = [];
    const add = (stream: "stdout" | "stderr", text: string) => {
      const lines = (this.partial[stream] + text).split("\n");
      this.partial[stream] = lines.pop() ?? "";
      for (const line of lines) if (line.length > 0) out.push({ stream, line: line.replace(/\r$/, "") });
    };
    if (this.tty) {
      add("stdout", chunk.toString("utf8"));
      return out;
    }
    this.pending = Buffer.concat([this.pending, chunk]);
    while (this.pending.length >= 8) {
      const size = this.pending.readUInt32BE(4);
      if (this.pending.length < 8 + size) break;
      const stream = this.pending[0] === 2 ? "stderr" : "stdout";
      add(stream, this.pending.subarray(8, 8 + size).toString("utf8"));
      this.pending = this.pending.subarray(8 + size);
    }
    return out;
  }

  /** What is left without a final newline. */
  end(): { stream: "stdout" | "stderr"; line: string }[] {
    const out = (["stdout", "stderr"] as const)
      .filter((s) => this.partial[s].length > 0)
      .map((stream) => ({ stream, line: this.partial[stream] }));
    this.partial = { stdout: "", stderr: "" };
    return out;
  }
}

/** An RFC 3339 timestamp with its fraction padded to nanoseconds, so keys compare as strings. */
export function timeKey(stamp: string): string {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?Z$/.exec(stamp);
  return m ? `${m[1]}.${(m[2] ?? "").padEnd(9, "0")}Z` : stamp;
}

/** A `timestamps=1` line as an entry: its id is the Docker timestamp (nanoseconds), where paging and a tail resume. */
export function dockerEntry(name: string, stream: "stdout" | "stderr", line: string): LogEntry | null {
  const space = line.indexOf(" ");
  const stamp = space === -1 ? line : line.slice(0, space);
  const time = Date.parse(stamp);
  if (Number.isNaN(time)) return null;
  const message = space === -1 ? "" : line.slice(space + 1);
  return {
    id: timeKey(stamp),
    timestamp: new Date(time).toISOString(),
    source: "docker",
    source_name: name,
    level: lineLevel(message),
    message: message.slice(0, MAX_MESSAGE),
    fields: { stream },
  };
}

/** Docker's `since`/`until`: Unix seconds with nanoseconds. */
function unixSeconds(key: string): string {
  const ms = Date.parse(key);
  const nanos = /\.(\d{9})Z$/.exec(key)?.[1] ?? "000000000";
  return `${Math.floor(ms / 1000)}.${nanos}`;
}

/**
 * One page of a container's log, newest first: the last DOCKER_SCAN_LINES lines before the cursor
 * (and within since/until), filtered; `scan_truncated` when the scan stopped short of the log's start.
 */
export async function dockerQuery(q: MethodParams<"logs.query">, policy: ReachPolicy) {
  enabled(policy);
  const name = container(q.source_name);
  const tty = await hasTty(policy.dockerSocket, name);
  const params = new URLSearchParams({
    stdout: "1",
    stderr: "1",
    timestamps: "1",
    tail: String(DOCKER_SCAN_LINES),
  });
  if (q.since !== undefined) params.set("since", (q.since / 1000).toFixed(3));
  const until = q.cursor ? unixSeconds(q.cursor) : q.until !== undefined ? (q.until / 1000).toFixed(3) : null;
  if (until) params.set("until", until);
  const res = await get(policy.dockerSocket, `/containers/${encodeURIComponent(name)}/logs?${params}`);
  if (res.statusCode !== 200) return failed(res, name);
  const splitter = new DockerLogSplitter(tty);
  const lines: { stream: "stdout" | "stderr"; line: string }[] = [];
  for await (const chunk of res) lines.push(...splitter.push(chunk as Buffer));
  lines.push(...splitter.end());
  const entries: LogEntry[] = [];
  let next: string | null = null;
  let oldest: string | null = null;
  for (let i = lines.length - 1; i >= 0; i--) {
    const entry = dockerEntry(name, lines[i].stream, lines[i].line);
    // `until` keeps lines of the cursor's own second: drop those at or after the cursor.
    if (!entry || (q.cursor && entry.id >= q.cursor)) continue;
    oldest = entry.id;
    if (!matches(entry, q)) continue;
    if (entries.length === q.limit) {
      next = entries[entries.length - 1].id;
      break;
    }
    entries.push(entry);
  }
  const truncated = next === null && lines.length >= DOCKER_SCAN_LINES;
  return {
    entries,
    next_cursor: truncated ? oldest : next,
    scan_truncated: truncated,
  };
}

/**
 * A live tail of a container's log (`follow=1`), from now or after `resume` (an entry's id). Each
 * line goes to `emit`; resolves when `stopped()` says so or the container's log ends.
 */
export async function dockerTail(
  params: StreamParams<"logs.tail">,
  policy: ReachPolicy,
  emit: (entry: LogEntry) => void,
  stopped: () => boolean,
): Promise<void> {
  enabled(policy);
  const name = container(params.source_name);
  const tty = await hasTty(policy.dockerSocket, name);
  const query = new URLSearchParams({ follow: "1", stdout: "1", stderr: "1", timestamps: "1" });
  if (params.resume) query.set("since", unixSeconds(params.resume));
  else query.set("tail", "0");
  const res = await get(policy.dockerSocket, `/containers/${encodeURIComponent(name)}/logs?${query}`);
  if (res.statusCode !== 200) return failed(res, name);
  const splitter = new DockerLogSplitter(tty);
  const watch = setInterval(() => {
    if (stopped()) res.destroy();
  }, 250);
  try {
    for await (const chunk of res) {
      for (const { stream, line } of splitter.push(chunk as Buffer)) {
        const entry = dockerEntry(name, stream, line);
        if (!entry || (params.resume && entry.id <= params.resume)) continue;
        if (matches(entry, params)) emit(entry);
      }
      if (stopped()) break;
    }
  } catch (error) {
    if (!stopped()) throw error;
  } finally {
    clearInterval(watch);
    res.destroy();
  }
}
