// One place for stopping the agent: named steps run once, in the order they were registered,
// within one time budget. Modelled on trigger.dev's shutdownManager, with two differences:
// steps run one after another (the agent's order matters: stop commands, then close the socket
// their results travel on, then release the lock), and the caller gets the exit code back
// instead of the manager calling process.exit, so main() can still restart after a self-update.
import { type Clock, systemClock } from "./interval";
import type { Logger } from "./log";

/** The signals that stop the agent gracefully. */
export type ShutdownSignal = "SIGTERM" | "SIGINT";

const SIGNAL_NUMBERS: Record<ShutdownSignal, number> = { SIGINT: 2, SIGTERM: 15 };

/**
 * The shell convention for "ended by a signal": 128 + its number.
 * @example signalExitCode("SIGTERM") // 143
 */
export function signalExitCode(signal: ShutdownSignal): number {
  return 128 + SIGNAL_NUMBERS[signal];
}

/** Why the agent stops: a signal, or an exit code it chose (./exit-codes.ts, EXIT_RESTART). */
export type ShutdownReason = { signal: ShutdownSignal } | { code: number };

/** Where signals come from: `process`, or an EventEmitter in tests. */
export interface SignalSource {
  on(signal: ShutdownSignal, listener: () => void): unknown;
}

export interface ShutdownOptions {
  log: Logger;
  /** Budget for all steps together; when it runs out the exit code is returned anyway. */
  timeoutMs: number;
  clock?: Clock;
  /** Exit code after a completed graceful stop on `signal`; default 128 + its number. */
  exitCodeForSignal?: (signal: ShutdownSignal) => number;
}

/** A step's name and work; the work may be async and may throw (logged, the next step still runs). */
export type ShutdownStep = () => void | Promise<void>;

/**
 * Runs named shutdown steps once, in registration order, within a time budget, and yields the
 * exit code. Single-flight: the first reason wins and later calls share its result.
 * @example
 * const shutdown = new ShutdownManager({ log, timeoutMs: 10_000 });
 * shutdown.register("connection", () => connection.close());
 * shutdown.handleSignals();
 * const code = await shutdown.finished;
 */
export class ShutdownManager {
  private readonly steps: { name: string; run: ShutdownStep }[] = [];
  private running: Promise<number> | undefined;
  private currentStep: string | undefined;
  private resolveFinished: (code: number) => void = () => {};
  /** Resolves with the exit code when a shutdown has run (or timed out). */
  readonly finished: Promise<number>;

  constructor(private readonly options: ShutdownOptions) {
    this.finished = new Promise((resolve) => {
      this.resolveFinished = resolve;
    });
  }

  /**
   * Adds a step to run after the ones registered before it.
   * @throws Error on a duplicate name, or once shutdown has started (the step would never run)
   */
  register(name: string, run: ShutdownStep): void {
    if (this.running) throw new Error(`shutdown has started; cannot register "${name}"`);
    if (this.steps.some((step) => step.name === name)) {
      throw new Error(`shutdown step "${name}" is already registered`);
    }
    this.steps.push({ name, run });
  }

  /** The registered step names, in the order they run. */
  get stepNames(): string[] {
    return this.steps.map((step) => step.name);
  }

  /** True once shutdown() was called. */
  get isShuttingDown(): boolean {
    return this.running !== undefined;
  }

  /** Starts the shutdown, or joins the one under way; resolves with the exit code. */
  shutdown(reason: ShutdownReason): Promise<number> {
    this.running ??= this.run(reason);
    return this.running;
  }

  /**
   * Wires SIGTERM and SIGINT to shutdown(). A second SIGINT while stopping calls
   * `forceExit(130)` at once (Ctrl-C twice); a repeated SIGTERM is only logged, since
   * systemd escalates to SIGKILL by itself after TimeoutStopSec.
   */
  handleSignals(
    source: SignalSource = process,
    forceExit: (code: number) => void = (code) => process.exit(code),
  ): void {
    for (const signal of ["SIGTERM", "SIGINT"] as const) {
      source.on(signal, () => {
        if (this.isShuttingDown && signal === "SIGINT") return forceExit(signalExitCode(signal));
        this.options.log.info("shutting down", { signal });
        void this.shutdown({ signal });
      });
    }
  }

  private async run(reason: ShutdownReason): Promise<number> {
    const { log, timeoutMs, clock = systemClock, exitCodeForSignal = signalExitCode } = this.options;
    const code = "code" in reason ? reason.code : exitCodeForSignal(reason.signal);
    let cancelTimeout: () => void = () => {};
    const timedOut = new Promise<"timed out">((resolve) => {
      cancelTimeout = clock.setTimeout(() => resolve("timed out"), timeoutMs);
    });
    const outcome = await Promise.race([this.runSteps(), timedOut]);
    cancelTimeout();
    if (outcome === "timed out") {
      log.error("graceful shutdown timed out; exiting anyway", { step: this.currentStep });
    }
    this.resolveFinished(code);
    return code;
  }

  private async runSteps(): Promise<"done"> {
    for (const step of this.steps) {
      this.currentStep = step.name;
      try {
        await step.run();
      } catch (error) {
        // Like Promise.allSettled: one failed step must not keep the lock or the socket held.
        this.options.log.error("error during shutdown", {
          step: step.name,
          problem: (error as Error).message,
        });
      }
    }
    this.currentStep = undefined;
    return "done";
  }
}
