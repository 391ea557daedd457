/** Stops a scheduled timer; calling it twice is harmless. */
export type Cancel = () => void;

/**
 * The timers the agent's lifecycle uses, injectable so tests can drive time by hand
 * (test/unit/agent/fake-clock.ts) instead of waiting for it.
 */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): Cancel;
  setInterval(fn: () => void, ms: number): Cancel;
}

/** The real clock: Date.now and Node's timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const handle = setTimeout(fn, ms);
    return () => clearTimeout(handle);
  },
  setInterval(fn, ms) {
    const handle = setInterval(fn, ms);
    return () => clearInterval(handle);
  },
};

/**
 * A repeating task whose period can change while it runs (the server sets the heartbeat
 * interval). It only schedules: `task` must handle its own errors.
 * @example const sweep = new Interval(() => void journal.sweep(), 60_000); sweep.start(); … sweep.stop()
 */
export class Interval {
  private cancel: Cancel | undefined;

  constructor(
    private readonly task: () => void,
    private period: number,
    private readonly clock: Clock = systemClock,
  ) {}

  /** Milliseconds between runs. */
  get periodMs(): number {
    return this.period;
  }

  /** True between start() and stop(). */
  get running(): boolean {
    return this.cancel !== undefined;
  }

  /** Runs the task every period from now on; a second start() is a no-op. */
  start(): void {
    if (this.cancel) return;
    this.cancel = this.clock.setInterval(this.task, this.period);
  }

  /** No more runs; start() resumes. */
  stop(): void {
    this.cancel?.();
    this.cancel = undefined;
  }

  /** Changes the period; a running interval restarts its count from now. */
  setPeriod(ms: number): void {
    this.period = ms;
    if (!this.cancel) return;
    this.stop();
    this.start();
  }
}
