import type * as v from "valibot";
import type { CancelFrame, ExecFrame } from "../src/protocol/frames";
import type { OutgoingFrame } from "./connection";
import { EXIT_CODES, type RunningExecution, startExecution } from "./executor";
import type { Journal, StoredResult } from "./journal";
import type { Logger } from "./log";
import type { AgentCounters } from "./metrics";

/** Where frames go: the connection (returns false when not open; results stay on disk). */
export type FrameSink = (frame: OutgoingFrame) => boolean;

export interface DispatcherOptions {
  journal: Journal;
  send: FrameSink;
  log: Logger;
  counters: AgentCounters;
  outputLimitBytes: number;
  killGraceMs?: number;
  /** How often live output is flushed as `output` frames. */
  streamIntervalMs?: number;
}

const MAX_CHUNK_CHARS = 64 * 1024;

/**
 * Coalesces a command's live output into `output` frames (at most one per interval,
 * chunks ≤ 64 KiB, no more than the stored-output cap in all). Streaming is best effort:
 * chunks produced while disconnected are dropped (seq still advances, so the gap shows);
 * the stored result always has the full (capped) output.
 */
class OutputStreamer {
  private pending = "";
  private seq = 0;
  private streamed = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly executionId: string,
    private readonly send: FrameSink,
    private readonly budget: number,
    private readonly intervalMs: number,
  ) {}

  push(text: string) {
    if (this.streamed + this.pending.length >= this.budget) return;
    this.pending += text.slice(0, this.budget - this.streamed - this.pending.length);
    this.timer ??= setTimeout(() => this.flush(), this.intervalMs);
  }

  flush() {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.pending) {
      const chunk = this.pending.slice(0, MAX_CHUNK_CHARS);
      this.pending = this.pending.slice(chunk.length);
      this.streamed += chunk.length;
      this.send({ type: "output", execution_id: this.executionId, seq: this.seq++, chunk });
    }
  }
}

/**
 * Runs what the server asks: `exec` at most once per execution id (journal first, then
 * ack, then spawn), `cancel`, and the server's `ack` of results. Results are spooled to
 * disk before they are sent, and re-sent after every reconnect until acknowledged.
 */
export class Dispatcher {
  private readonly running = new Map<string, RunningExecution>();
  private readonly accepting = new Set<string>();
  private readonly finishing = new Set<Promise<void>>();
  private stopping = false;

  constructor(private readonly options: DispatcherOptions) {}

  /** Ids of commands running right now. */
  get runningIds(): string[] {
    return [...this.running.keys()];
  }

  private sendResult(id: string, result: StoredResult) {
    this.options.send({ type: "result", execution_id: id, ...result });
  }

  /** Handles `exec`. Never runs an id the journal already knows. */
  async exec(frame: v.InferOutput<typeof ExecFrame>): Promise<void> {
    const { journal, send, log } = this.options;
    const id = frame.execution_id;
    if (this.running.has(id) || this.accepting.has(id)) {
      send({ type: "ack", execution_id: id });
      return;
    }
    const known = journal.state(id);
    if (known !== "unknown") return this.answerDuplicate(id, known);
    if (this.stopping) return; // not acked: the server delivers it again after we return
    this.accepting.add(id);
    try {
      await journal.recordStarted(id, frame.command, frame.timeout_ms);
    } catch (error) {
      // Without the journal entry a crash could run it twice; refuse instead.
      this.accepting.delete(id);
      log.error("cannot journal an execution; not running it", {
        execution_id: id,
        problem: (error as Error).message,
      });
      send({ type: "ack", execution_id: id });
      const now = Date.now();
      this.sendResult(id, {
        exit_code: EXIT_CODES.interrupted,
        output: `the agent could not record this execution on disk (${(error as Error).message}); it was not run\n`,
        truncated: false,
        started_at: now,
        finished_at: now,
      });
      return;
    }
    if (this.stopping) {
      // Journaled but never spawned: the next start reports it as interrupted, never runs it.
      this.accepting.delete(id);
      return;
    }
    send({ type: "ack", execution_id: id });
    this.options.counters.commands_run++;
    log.info("running command", { execution_id: id, timeout_ms: frame.timeout_ms });
    const streamer = new OutputStreamer(
      id,
      send,
      this.options.outputLimitBytes,
      this.options.streamIntervalMs ?? 250,
    );
    const run = startExecution({
      command: frame.command,
      timeoutMs: frame.timeout_ms,
      outputLimitBytes: this.options.outputLimitBytes,
      killGraceMs: this.options.killGraceMs,
      onOutput: (text) => streamer.push(text),
      env: { OUTPOST_EXECUTION_ID: id },
    });
    this.running.set(id, run);
    this.accepting.delete(id);
    const finishing = this.finish(id, frame, run, streamer);
    this.finishing.add(finishing);
    await finishing.finally(() => this.finishing.delete(finishing));
  }

  private async finish(
    id: string,
    frame: v.InferOutput<typeof ExecFrame>,
    run: RunningExecution,
    streamer: OutputStreamer,
  ): Promise<void> {
    const outcome = await run.done;
    streamer.flush();
    if (outcome.exit_code !== 0) this.options.counters.commands_failed++;
    const { stopped: _stopped, ...result } = outcome;
    try {
      await this.options.journal.recordResult(id, frame.command, frame.timeout_ms, result);
    } catch (error) {
      this.options.counters.errors++;
      this.options.log.error("cannot spool a result; sending it anyway", {
        execution_id: id,
        problem: (error as Error).message,
      });
    }
    this.running.delete(id);
    this.options.log.info("command finished", { execution_id: id, exit_code: result.exit_code });
    this.sendResult(id, result);
  }

  private async answerDuplicate(id: string, known: "started" | "finished" | "done") {
    const { journal, send, log } = this.options;
    send({ type: "ack", execution_id: id });
    if (known === "done") {
      log.warn("execution already finished and acknowledged; not running it again", { execution_id: id });
      return;
    }
    // "started" but not running here: this process did not start it, so it died with a previous one.
    const result =
      known === "started" ? await journal.finishInterrupted(id) : (await journal.read(id))?.result;
    log.info("execution already known; re-sending its result instead of running it again", {
      execution_id: id,
    });
    if (result) this.sendResult(id, result);
  }

  /** Handles `cancel`: SIGTERM to the group (exit 143); a finished one just re-sends its result. */
  async cancel(frame: v.InferOutput<typeof CancelFrame>): Promise<void> {
    const run = this.running.get(frame.execution_id);
    if (run) {
      this.options.log.info("cancelling command", { execution_id: frame.execution_id });
      run.stop("cancel");
      return;
    }
    const entry = await this.options.journal.read(frame.execution_id);
    if (entry?.result) this.sendResult(frame.execution_id, entry.result);
    else
      this.options.log.info("cancel for an execution that is not running", {
        execution_id: frame.execution_id,
      });
  }

  /** Handles the server's `ack` of a result. */
  async acknowledged(id: string): Promise<void> {
    await this.options.journal.markAcked(id);
  }

  /** Re-sends every unacknowledged result (after `hello` on each connect). */
  async resendUnacknowledged(): Promise<number> {
    const entries = await this.options.journal.unacknowledged();
    let sent = 0;
    for (const entry of entries) {
      if (
        entry.result &&
        this.options.send({ type: "result", execution_id: entry.execution_id, ...entry.result })
      )
        sent++;
    }
    return sent;
  }

  /**
   * For shutdown: stops every running command (SIGTERM to its group, SIGKILL after the
   * grace) and waits until their results (exit 125, "the agent stopped…") are journaled,
   * to be sent after the next start.
   */
  async stopAll(): Promise<void> {
    this.stopping = true;
    for (const run of this.running.values()) run.stop("shutdown");
    await Promise.all([...this.finishing]);
  }
}
