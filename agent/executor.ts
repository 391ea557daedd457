/** Largest delay Node's timers honour. */
const MAX_TIMER_MS = 2_147_483_647;

import { type ChildProcess, spawn } from "node:child_process";
import { constants } from "node:os";
import { StringDecoder } from "node:string_decoder";
import { OutputBuffer } from "./output-buffer";

/** Why the agent stopped a command early. */
export type StopReason = "cancel" | "timeout" | "shutdown";

/** Exit codes the agent reports for commands it stopped (a killed process reports 128+signo). */
export const EXIT_CODES = {
  /** Timed out (as timeout(1)). */
  timeout: 124,
  /** The agent could not finish the command: it stopped or restarted mid-run; never re-run. */
  interrupted: 125,
  /** The shell could not be started. */
  notStarted: 127,
  /** Cancelled: 128 + SIGTERM, what the server maps to `cancelled`. */
  cancelled: 143,
} as const;

/** The finished command, ready to journal and report. Times are epoch milliseconds. */
export interface ExecutionOutcome {
  exit_code: number;
  output: string;
  truncated: boolean;
  started_at: number;
  finished_at: number;
  stopped: StopReason | null;
}

export interface ExecutionOptions {
  command: string;
  /** null: no timeout. */
  timeoutMs: number | null;
  outputLimitBytes: number;
  /** Between SIGTERM and SIGKILL to the process group. */
  killGraceMs?: number;
  /** Live output, decoded on character boundaries, for optional streaming. */
  onOutput?: (text: string) => void;
  /** Extra environment for the command (the agent's own secrets are never passed on). */
  env?: Record<string, string>;
  shell?: string;
}

/** A command in flight. */
export interface RunningExecution {
  readonly pid: number | undefined;
  /** SIGTERM the whole process group, SIGKILL after the grace period. First reason wins. */
  stop(reason: StopReason): void;
  readonly done: Promise<ExecutionOutcome>;
}

function describeMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

function withNote(text: string, note: string): string {
  return `${text}${text && !text.endsWith("\n") ? "\n" : ""}[${note}]\n`;
}

const AGENT_ONLY_ENV = [
  "ENROLLMENT_KEY",
  "MALLOC_ARENA_MAX",
  "MALLOC_TRIM_THRESHOLD_",
  "MALLOC_MMAP_THRESHOLD_",
] as const;

function commandEnv(extra: Record<string, string> | undefined): NodeJS.ProcessEnv {
  // The enrollment key is a secret of the agent, not of the commands it runs. The malloc settings
  // are the installed wrapper's tuning of the agent itself (docs/agent-footprint.md), not of commands.
  const env = { ...process.env };
  for (const name of AGENT_ONLY_ENV) delete env[name];
  return { ...env, ...extra };
}

/**
 * Runs `sh -c <command>` in its own process group (detached), stdin closed, stdout and
 * stderr combined in order, output capped, with timeout and stop (cancel/shutdown)
 * that signal the whole group so background children die too.
 * @example const run = startExecution({ command: "uptime", timeoutMs: 60_000, outputLimitBytes: 1 << 20 }); await run.done
 */
export function startExecution(options: ExecutionOptions): RunningExecution {
  const { command, timeoutMs, outputLimitBytes, killGraceMs = 5000, onOutput, shell = "/bin/sh" } = options;
  const startedAt = Date.now();
  const buffer = new OutputBuffer(outputLimitBytes);
  const liveDecoder = new StringDecoder("utf8");
  let stopped: StopReason | null = null;
  let killedHard = false;
  let timeoutTimer: NodeJS.Timeout | undefined;
  let killTimer: NodeJS.Timeout | undefined;
  let child: ChildProcess | undefined;
  let resolveDone!: (outcome: ExecutionOutcome) => void;
  const done = new Promise<ExecutionOutcome>((resolve) => {
    resolveDone = resolve;
  });

  const signalGroup = (signal: NodeJS.Signals | 0): boolean => {
    if (!child?.pid) return false;
    try {
      process.kill(-child.pid, signal);
      return true;
    } catch {
      return false; // ESRCH: the group is already gone
    }
  };

  const stop = (reason: StopReason) => {
    if (stopped || finished) return;
    stopped = reason;
    signalGroup("SIGTERM");
    killTimer = setTimeout(() => {
      killedHard = signalGroup("SIGKILL");
    }, killGraceMs);
  };

  let finished = false;
  const finish = (exit: { code: number | null; signal: NodeJS.Signals | null } | { spawnError: Error }) => {
    if (finished) return;
    finished = true;
    clearTimeout(timeoutTimer);
    // Keep the SIGKILL timer only while stragglers of a stopped group remain.
    if (killTimer && !signalGroup(0)) clearTimeout(killTimer);
    const captured = buffer.finish();
    let output = captured.text;
    let exitCode: number;
    if ("spawnError" in exit) {
      exitCode = EXIT_CODES.notStarted;
      output = withNote(output, `could not start ${shell}: ${exit.spawnError.message}`);
    } else if (stopped === "timeout") {
      exitCode = EXIT_CODES.timeout;
      output = withNote(
        output,
        `timed out after ${describeMs(timeoutMs ?? 0)}: sent SIGTERM to the command's process group${killedHard ? `, then SIGKILL after ${describeMs(killGraceMs)}` : ""}`,
      );
    } else if (stopped === "cancel") {
      exitCode = EXIT_CODES.cancelled;
      output = withNote(output, "cancelled: sent SIGTERM to the command's process group");
    } else if (stopped === "shutdown") {
      exitCode = EXIT_CODES.interrupted;
      output = withNote(
        output,
        "the agent stopped while this command was running: it was terminated and will not be re-run",
      );
    } else if (exit.signal) {
      exitCode = 128 + (constants.signals[exit.signal] ?? 0);
    } else {
      exitCode = exit.code ?? 1;
    }
    resolveDone({
      exit_code: exitCode,
      output,
      truncated: captured.truncated,
      started_at: startedAt,
      finished_at: Date.now(),
      stopped,
    });
  };

  const onData = (chunk: Buffer) => {
    buffer.push(chunk);
    if (onOutput) {
      const text = liveDecoder.write(chunk);
      if (text) onOutput(text);
    }
  };

  try {
    // `exec 2>&1` on the command's first line merges stderr into stdout inside the shell,
    // so both arrive interleaved exactly as written, and line numbers in shell errors
    // stay right. The stderr pipe still catches a syntax error on that first line.
    child = spawn(shell, ["-c", `exec 2>&1; ${command}`], {
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: commandEnv(options.env),
    });
  } catch (error) {
    // e.g. a NUL byte in the command
    finish({ spawnError: error as Error });
    return { pid: undefined, stop: () => {}, done };
  }
  child.stdout?.on("data", onData);
  child.stderr?.on("data", onData);
  child.on("error", (error) => {
    if (child?.pid === undefined) finish({ spawnError: error });
  });
  child.on("exit", (code, signal) => {
    // A background child that keeps the pipe open must not hold the result forever.
    setTimeout(() => {
      child?.stdout?.destroy();
      child?.stderr?.destroy();
      finish({ code, signal });
    }, 2000).unref();
    child?.once("close", () => finish({ code, signal }));
  });
  // Node fires timers above 2^31-1 ms at once; such a timeout is as good as none.
  if (timeoutMs !== null && timeoutMs <= MAX_TIMER_MS)
    timeoutTimer = setTimeout(() => stop("timeout"), timeoutMs);

  return {
    get pid() {
      return child?.pid;
    },
    stop,
    done,
  };
}
