// A hand-driven Clock for agent lifecycle tests: time moves only when advance() is called.
import type { Cancel, Clock } from "../../../agent/interval";

interface Timer {
  at: number;
  every: number | null;
  fn: () => void;
}

/** A Clock whose timers fire only inside advance(), in due order. */
export class FakeClock implements Clock {
  private time = 1_000_000;
  private readonly timers = new Set<Timer>();

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): Cancel {
    return this.add({ at: this.time + ms, every: null, fn });
  }

  setInterval(fn: () => void, ms: number): Cancel {
    return this.add({ at: this.time + ms, every: ms, fn });
  }

  /** Timers still scheduled. */
  get pending(): number {
    return this.timers.size;
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way. */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      const next = [...this.timers].sort((a, b) => a.at - b.at)[0];
      if (!next || next.at > end) break;
      this.time = next.at;
      if (next.every === null) this.timers.delete(next);
      else next.at += next.every;
      next.fn();
    }
    this.time = end;
  }

  private add(timer: Timer): Cancel {
    this.timers.add(timer);
    return () => void this.timers.delete(timer);
  }
}
