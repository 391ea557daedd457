import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import * as v from "valibot";
import { EXIT_CODES } from "./executor";
import { ensurePrivateDir, readJsonFile, removeFile, writeFileAtomic } from "./files";
import { createHash } from "./light-crypto";
import type { Logger } from "./log";

/** A finished command as reported in a `result` frame. Times are epoch milliseconds. */
export interface StoredResult {
  exit_code: number;
  output: string;
  truncated: boolean;
  started_at: number;
  finished_at: number;
}

// Built when the journal reads a file (a start-up, a reconnect), not kept by an idle agent.
const storedResultSchema = () =>
  v.object({
    exit_code: v.number(),
    output: v.string(),
    truncated: v.boolean(),
    started_at: v.number(),
    finished_at: v.number(),
  });

const entrySchema = () =>
  v.object({
    execution_id: v.string(),
    command: v.string(),
    timeout_ms: v.nullable(v.number()),
    state: v.picklist(["started", "finished"]),
    started_at: v.number(),
    result: v.optional(storedResultSchema()),
    acked_at: v.optional(v.number()),
  });
/** One execution on disk: written `started` before the process is spawned, then `finished`. */
export type JournalEntry = v.InferOutput<ReturnType<typeof entrySchema>>;

/** What the journal knows about an execution id. */
export type JournalState = "unknown" | "started" | "finished" | "done";

/** The output of an execution that was started but never finished (the agent died mid-run). */
export const INTERRUPTED_OUTPUT = "agent restarted while this command was running; it was not re-run\n";

export interface JournalOptions {
  log?: Logger;
  /** How long an acknowledged result stays on disk (so a duplicate exec can get it again). */
  ackedRetentionMs?: number;
  /** How long an unacknowledged result is kept for re-sending before it is given up. */
  unackedRetentionMs?: number;
  /** Bounds of the index of finished, acknowledged ids that must never run again. */
  doneMaxEntries?: number;
  doneMaxAgeMs?: number;
}

interface Meta {
  state: "started" | "finished";
  finished_at?: number;
  acked_at?: number;
}

// Execution ids come from the server; only a plain charset becomes a file name as is.
function fileName(id: string): string {
  if (/^[A-Za-z0-9_-]{1,128}$/.test(id)) return `${id}.json`;
  return `%${createHash("sha256").update(id).digest("hex").slice(0, 40)}.json`;
}

/**
 * The on-disk execution journal (`<state>/executions/<id>.json` plus the index
 * `<state>/executions-done.json`). It is what guarantees an execution id runs at most
 * once across restarts, and that results survive until the server acknowledges them.
 * @example const journal = await Journal.open("/var/lib/outpost-agent"); journal.state(id)
 */
export class Journal {
  private readonly meta = new Map<string, Meta>();
  private readonly done = new Map<string, number>();
  private readonly dir: string;
  private readonly donePath: string;

  private constructor(
    stateDir: string,
    private readonly options: Required<Omit<JournalOptions, "log">> & { log?: Logger },
  ) {
    this.dir = join(stateDir, "executions");
    this.donePath = join(stateDir, "executions-done.json");
  }

  /** Loads the journal from the state dir, creating it when needed. */
  static async open(stateDir: string, options: JournalOptions = {}): Promise<Journal> {
    const journal = new Journal(stateDir, {
      ackedRetentionMs: 10 * 60_000,
      unackedRetentionMs: 7 * 24 * 3600_000,
      doneMaxEntries: 5000,
      doneMaxAgeMs: 7 * 24 * 3600_000,
      ...options,
    });
    await ensurePrivateDir(journal.dir);
    await journal.load();
    return journal;
  }

  private async load(): Promise<void> {
    const done = await readJsonFile(this.donePath).catch(() => null);
    if (done && typeof done === "object") {
      for (const [id, at] of Object.entries(done)) if (typeof at === "number") this.done.set(id, at);
    }
    for (const name of await readdir(this.dir)) {
      if (!name.endsWith(".json")) continue;
      const entry = await this.readFile(name);
      if (!entry) continue;
      this.meta.set(entry.execution_id, {
        state: entry.state,
        finished_at: entry.result?.finished_at,
        acked_at: entry.acked_at,
      });
    }
  }

  private async readFile(name: string): Promise<JournalEntry | null> {
    try {
      const parsed = v.safeParse(entrySchema(), JSON.parse(await readFile(join(this.dir, name), "utf8")));
      if (parsed.success) return parsed.output;
      this.options.log?.warn("ignoring malformed journal entry", {
        file: name,
        problem: parsed.issues[0].message,
      });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") {
        this.options.log?.warn("ignoring unreadable journal entry", {
          file: name,
          problem: (error as Error).message,
        });
      }
    }
    return null;
  }

  private async write(entry: JournalEntry): Promise<void> {
    await writeFileAtomic(join(this.dir, fileName(entry.execution_id)), JSON.stringify(entry), 0o600);
    this.meta.set(entry.execution_id, {
      state: entry.state,
      finished_at: entry.result?.finished_at,
      acked_at: entry.acked_at,
    });
  }

  /** What is known about `id`; anything but "unknown" means: never run it again. */
  state(id: string): JournalState {
    const meta = this.meta.get(id);
    if (meta) return meta.state;
    return this.done.has(id) ? "done" : "unknown";
  }

  /** The stored entry, or null (unknown, or only in the done index). */
  read(id: string): Promise<JournalEntry | null> {
    return this.meta.has(id) ? this.readFile(fileName(id)) : Promise.resolve(null);
  }

  /** Records an execution as started. Must complete before the process is spawned. */
  async recordStarted(
    id: string,
    command: string,
    timeoutMs: number | null,
    startedAt = Date.now(),
  ): Promise<void> {
    await this.write({
      execution_id: id,
      command,
      timeout_ms: timeoutMs,
      state: "started",
      started_at: startedAt,
    });
  }

  /** Spools a result to disk; done before it is sent, so it can be re-sent after a crash. */
  async recordResult(
    id: string,
    command: string,
    timeoutMs: number | null,
    result: StoredResult,
  ): Promise<void> {
    await this.write({
      execution_id: id,
      command,
      timeout_ms: timeoutMs,
      state: "finished",
      started_at: result.started_at,
      result,
    });
  }

  /** The server stored the result: stop re-sending it (the file is removed by `sweep` later). */
  async markAcked(id: string, now = Date.now()): Promise<boolean> {
    const entry = await this.read(id);
    if (entry?.state !== "finished" || entry.acked_at) return false;
    await this.write({ ...entry, acked_at: now });
    return true;
  }

  /** Finished results the server has not acknowledged, oldest first. */
  async unacknowledged(): Promise<JournalEntry[]> {
    const ids = [...this.meta]
      .filter(([, m]) => m.state === "finished" && !m.acked_at)
      .sort(([, a], [, b]) => (a.finished_at ?? 0) - (b.finished_at ?? 0))
      .map(([id]) => id);
    const entries = await Promise.all(ids.map((id) => this.read(id)));
    return entries.filter((e): e is JournalEntry => e?.result !== undefined);
  }

  /**
   * Turns every `started` entry into a finished one with exit code 125 and an explanation.
   * Call at startup, before any command runs: such an entry means the agent died mid-run,
   * and the command must be reported, not re-run. Returns the ids.
   */
  async recoverInterrupted(now = Date.now()): Promise<string[]> {
    const ids = [...this.meta].filter(([, m]) => m.state === "started").map(([id]) => id);
    for (const id of ids) await this.finishInterrupted(id, now);
    return ids;
  }

  /** Reports one `started` entry as interrupted (see `recoverInterrupted`); returns the result. */
  async finishInterrupted(id: string, now = Date.now()): Promise<StoredResult | null> {
    const entry = await this.read(id);
    if (entry?.state !== "started") return entry?.result ?? null;
    const result: StoredResult = {
      exit_code: EXIT_CODES.interrupted,
      output: INTERRUPTED_OUTPUT,
      truncated: false,
      started_at: entry.started_at,
      finished_at: now,
    };
    await this.recordResult(id, entry.command, entry.timeout_ms, result);
    return result;
  }

  /**
   * Housekeeping: acknowledged results older than the retention leave disk but stay in
   * the done index (so a duplicate exec is still refused); very old unacknowledged ones
   * are given up; the index is bounded by age and size.
   */
  async sweep(now = Date.now()): Promise<void> {
    let doneChanged = false;
    const leaving: string[] = [];
    for (const [id, meta] of this.meta) {
      const ackedLongAgo = meta.acked_at !== undefined && now - meta.acked_at > this.options.ackedRetentionMs;
      const abandoned =
        meta.state === "finished" &&
        !meta.acked_at &&
        now - (meta.finished_at ?? now) > this.options.unackedRetentionMs;
      if (!ackedLongAgo && !abandoned) continue;
      if (abandoned) this.options.log?.warn("giving up an unacknowledged result", { execution_id: id });
      this.done.set(id, meta.acked_at ?? now);
      leaving.push(id);
      doneChanged = true;
    }
    for (const [id, at] of this.done) {
      if (now - at > this.options.doneMaxAgeMs) {
        this.done.delete(id);
        doneChanged = true;
      }
    }
    // Map iteration is insertion order: the oldest go first.
    while (this.done.size > this.options.doneMaxEntries) {
      this.done.delete(this.done.keys().next().value as string);
      doneChanged = true;
    }
    // Index first, files second: a crash in between must not forget an id.
    if (doneChanged)
      await writeFileAtomic(this.donePath, JSON.stringify(Object.fromEntries(this.done)), 0o600);
    for (const id of leaving) {
      await removeFile(join(this.dir, fileName(id)));
      this.meta.delete(id);
    }
  }
}
