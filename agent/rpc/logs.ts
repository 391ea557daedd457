import { spawn } from "node:child_process";
import { open, stat } from "node:fs/promises";
import { createInterface } from "node:readline";
import {
  LOG_LEVELS,
  type LogEntry,
  type MethodParams,
  type StreamParams,
} from "../../src/protocol/reach-methods";
import type { Family } from "./family";
import { fileEntry, journalEntry, matches } from "./log-lines";
import { type ReachPolicy, RpcFailure, resolveAllowed } from "./policy";
import type { StreamSender } from "./stream-sender";

/** How much one query may scan before it answers with what it found (`scan_truncated`). */
const SCAN_LINES = 50_000;
const SCAN_MS = 5_000;
const BLOCK = 64 * 1024;
const TAIL_POLL_MS = 250;
const BATCH_MS = 100;
const BATCH_ITEMS = 500;

type Query = MethodParams<"logs.query">;
interface Page {
  entries: LogEntry[];
  next_cursor: string | null;
  scan_truncated: boolean;
}

function allowed(policy: ReachPolicy): void {
  if (!policy.logs) throw new RpcFailure("policy", "logs are switched off on this host (OUTPOST_LOGS=off)");
}

function inRange(entry: LogEntry, q: Query): boolean {
  const t = Date.parse(entry.timestamp);
  if (q.since !== undefined && t < q.since) return false;
  if (q.until !== undefined && t > q.until) return false;
  return true;
}

/** The file's lines newest first, read backwards from `end` in 64 KiB blocks; each with its start and end offsets. */
async function* linesBackwards(path: string, end: number) {
  const handle = await open(path, "r");
  try {
    let pos = end;
    let tail = Buffer.alloc(0);
    while (pos > 0) {
      const size = Math.min(BLOCK, pos);
      pos -= size;
      const block = Buffer.alloc(size);
      await handle.read(block, 0, size, pos);
      let buf = Buffer.concat([block, tail]);
      let cut = buf.lastIndexOf(10);
      let lineEnd = pos + buf.length;
      while (cut !== -1) {
        const line = buf.subarray(cut + 1);
        const start = pos + cut + 1;
        if (line.length > 0) yield { line: line.toString("utf8").replace(/\r$/, ""), start, end: lineEnd };
        lineEnd = start;
        buf = buf.subarray(0, cut);
        cut = buf.lastIndexOf(10);
      }
      tail = buf;
    }
    if (tail.length > 0) yield { line: tail.toString("utf8").replace(/\r$/, ""), start: 0, end: tail.length };
  } finally {
    await handle.close();
  }
}

async function fileQuery(q: Query, policy: ReachPolicy): Promise<Page> {
  if (!q.source_name)
    throw new RpcFailure("bad_request", "source_name (an absolute path) is required for file logs");
  const path = await resolveAllowed(policy, policy.logPaths, q.source_name);
  const info = await stat(path);
  if (!info.isFile()) throw new RpcFailure("bad_request", `${path} is not a regular file`);
  const end = q.cursor === undefined ? info.size : Math.min(Number(q.cursor), info.size);
  if (!Number.isInteger(end) || end < 0)
    throw new RpcFailure("bad_request", "cursor is not a position in this file");
  const entries: LogEntry[] = [];
  const started = Date.now();
  let scanned = 0;
  let position = end;
  for await (const { line, start, end: lineEnd } of linesBackwards(path, end)) {
    if (++scanned > SCAN_LINES || Date.now() - started > SCAN_MS)
      return { entries, next_cursor: String(position), scan_truncated: true };
    const entry = fileEntry(path, line, lineEnd, info.mtimeMs);
    if (matches(entry, q) && inRange(entry, q)) {
      if (entries.length === q.limit)
        return { entries, next_cursor: String(position), scan_truncated: false };
      entries.push(entry);
    }
    position = start;
  }
  return { entries, next_cursor: null, scan_truncated: false };
}

function journalArgs(filter: { source_name?: string; levels?: string[] }): string[] {
  const args = ["-o", "json", "--no-pager"];
  if (filter.source_name) args.push("-u", filter.source_name);
  if (filter.levels && filter.levels.length > 0) {
    const max = Math.max(...filter.levels.map((l) => LOG_LEVELS.indexOf(l as (typeof LOG_LEVELS)[number])));
    args.push("-p", String(max));
  }
  return args;
}

function spawnJournal(args: string[]) {
  const child = spawn("journalctl", args, { stdio: ["ignore", "pipe", "ignore"] });
  const failed = new Promise<never>((_, reject) =>
    child.on("error", (error: NodeJS.ErrnoException) =>
      reject(
        error.code === "ENOENT"
          ? new RpcFailure("unsupported", "journald is not available on this host (no journalctl)")
          : error,
      ),
    ),
  );
  failed.catch(() => undefined);
  return { child, failed };
}

async function journalQuery(q: Query): Promise<Page> {
  const args = [...journalArgs(q), "-r", "-n", String(SCAN_LINES)];
  if (q.since !== undefined) args.push(`--since=@${Math.floor(q.since / 1000)}`);
  if (q.until !== undefined) args.push(`--until=@${Math.ceil(q.until / 1000)}`);
  if (q.cursor) args.push(`--cursor=${q.cursor}`);
  const { child, failed } = spawnJournal(args);
  const entries: LogEntry[] = [];
  let page: Page | undefined;
  const started = Date.now();
  let scanned = 0;
  let last: string | null = null;
  const read = (async () => {
    for await (const line of createInterface({ input: child.stdout })) {
      const entry = journalEntry(line);
      if (!entry || entry.id === q.cursor) continue;
      if (++scanned >= SCAN_LINES || Date.now() - started > SCAN_MS) {
        page = { entries, next_cursor: last ?? entry.id, scan_truncated: true };
        break;
      }
      if (matches(entry, q)) {
        if (entries.length === q.limit) {
          page = { entries, next_cursor: last, scan_truncated: false };
          break;
        }
        entries.push(entry);
      }
      last = entry.id;
    }
  })();
  try {
    await Promise.race([read, failed]);
  } finally {
    child.kill("SIGTERM");
  }
  return page ?? { entries, next_cursor: null, scan_truncated: false };
}

/** Collects entries and pushes them in batches (at most one frame per `BATCH_MS`, `BATCH_ITEMS` each). */
class Batcher {
  private batch: LogEntry[] = [];
  private flushing: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly sender: StreamSender) {}

  add(entry: LogEntry): void {
    this.batch.push(entry);
    if (this.batch.length >= BATCH_ITEMS) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), BATCH_MS);
  }

  flush(): Promise<unknown> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const items = this.batch;
    this.batch = [];
    if (items.length > 0) this.flushing = this.flushing.then(() => this.sender.push(items));
    return this.flushing;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function tailFile(params: StreamParams<"logs.tail">, sender: StreamSender, policy: ReachPolicy) {
  if (!params.source_name)
    throw new RpcFailure("bad_request", "source_name (an absolute path) is required for file logs");
  const path = await resolveAllowed(policy, policy.logPaths, params.source_name);
  let info = await stat(path);
  if (!info.isFile()) throw new RpcFailure("bad_request", `${path} is not a regular file`);
  let offset = params.resume !== undefined && /^\d+$/.test(params.resume) ? Number(params.resume) : info.size;
  let inode = info.ino;
  const batcher = new Batcher(sender);
  while (!sender.stopped) {
    info = await stat(path).catch(() => info);
    // Rotated (a new file under the name) or truncated: start again from its beginning.
    if (info.ino !== inode || info.size < offset) {
      inode = info.ino;
      offset = 0;
    }
    if (info.size > offset) {
      const handle = await open(path, "r");
      try {
        const length = Math.min(info.size - offset, 1024 * 1024);
        const buf = Buffer.alloc(length);
        const { bytesRead } = await handle.read(buf, 0, length, offset);
        const data = buf.subarray(0, bytesRead);
        const lastNewline = data.lastIndexOf(10);
        if (lastNewline !== -1) {
          let start = 0;
          for (let nl = data.indexOf(10); nl !== -1 && nl <= lastNewline; nl = data.indexOf(10, start)) {
            const line = data.subarray(start, nl).toString("utf8").replace(/\r$/, "");
            const entry = fileEntry(path, line, offset + nl + 1, Date.now());
            if (line.length > 0 && matches(entry, params)) batcher.add(entry);
            start = nl + 1;
          }
          offset += lastNewline + 1;
        }
      } finally {
        await handle.close();
      }
      await batcher.flush();
      continue;
    }
    await sleep(TAIL_POLL_MS);
  }
}

async function tailJournal(params: StreamParams<"logs.tail">, sender: StreamSender) {
  const args = [...journalArgs(params), "-f"];
  args.push(...(params.resume ? [`--after-cursor=${params.resume}`] : ["-n", "0"]));
  const { child, failed } = spawnJournal(args);
  const batcher = new Batcher(sender);
  const read = (async () => {
    for await (const line of createInterface({ input: child.stdout })) {
      if (sender.stopped) break;
      const entry = journalEntry(line);
      if (entry && matches(entry, params)) batcher.add(entry);
    }
  })();
  const stopped = (async () => {
    while (!sender.stopped) await sleep(TAIL_POLL_MS);
  })();
  try {
    await Promise.race([read, failed, stopped]);
    await batcher.flush();
  } finally {
    child.kill("SIGTERM");
  }
}

async function tailDocker(params: StreamParams<"logs.tail">, sender: StreamSender, policy: ReachPolicy) {
  const { dockerTail } = await import("./docker-logs");
  const batcher = new Batcher(sender);
  await dockerTail(
    params,
    policy,
    (entry) => batcher.add(entry),
    () => sender.stopped,
  );
  await batcher.flush();
}

export const family: Family = {
  async call(method, params, policy) {
    allowed(policy);
    if (method !== "logs.query") throw new RpcFailure("unsupported", `${method} is not a logs method`);
    const q = params as Query;
    if (q.source === "file") return fileQuery(q, policy);
    if (q.source === "journal") return journalQuery(q);
    const { dockerQuery } = await import("./docker-logs");
    return dockerQuery(q, policy);
  },
  async stream(kind, params, sender, policy) {
    allowed(policy);
    const p = params as StreamParams<"logs.tail">;
    if (kind !== "logs.tail") throw new RpcFailure("unsupported", `${kind} is not a logs stream`);
    if (p.source === "file") return tailFile(p, sender, policy);
    if (p.source === "journal") return tailJournal(p, sender);
    return tailDocker(p, sender, policy);
  },
};
