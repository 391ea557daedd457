/**
 * An execution as its result left it once that result was written to libSQL: what a synchronous
 * command (`wait_seconds`) answers with, without reading the row back.
 */
export interface SettledExecution {
  id: string;
  status: "completed" | "cancelled";
  exit_code: number;
  /** As stored (capped at 1 MiB). */
  output: string;
  /** Epoch ms, as stored. */
  started_at: number | null;
  duration_ms: number | null;
}

type Settle = (settled: SettledExecution | null) => void;

/**
 * Synchronous commands waiting in this NodeSession for their executions' results. A waiter is
 * resolved when the agent's `result` frame for its execution has been written (never before), with
 * what was written; with null when the result changed nothing (the row had ended another way: the
 * caller reads libSQL) or when the wait's time is up. Memory only: an object that restarts drops its
 * waiters, and the callers' RPCs fail, so they fall back to reading libSQL.
 */
export class ExecutionWaiters {
  readonly #waiting = new Map<string, Settle[]>();

  /** How many executions are waited for. */
  get size(): number {
    return this.#waiting.size;
  }

  /**
   * Waits for each of `ids` (at most `timeoutMs`); resolves with one entry per id, in order, null
   * for those without a written result by then.
   */
  wait(ids: string[], timeoutMs: number): Promise<(SettledExecution | null)[]> {
    return new Promise((resolve) => {
      const found: (SettledExecution | null)[] = ids.map(() => null);
      let left = ids.length;
      const settles: Settle[] = [];
      const done = () => {
        clearTimeout(timer);
        ids.forEach((id, i) => {
          this.#drop(id, settles[i]);
        });
        resolve(found);
      };
      const timer = setTimeout(done, timeoutMs);
      ids.forEach((id, i) => {
        const settle: Settle = (settled) => {
          found[i] = settled;
          if (--left === 0) done();
        };
        settles.push(settle);
        this.#waiting.set(id, [...(this.#waiting.get(id) ?? []), settle]);
      });
      if (ids.length === 0) done();
    });
  }

  /**
   * The result of `id` was written (`settled` says what was stored), or changed nothing (`settled`
   * gives null): its waiters are told. `settled` runs only when someone waits (it copies output).
   */
  settle(id: string, settled: () => SettledExecution | null): void {
    const waiting = this.#waiting.get(id);
    if (!waiting) return;
    this.#waiting.delete(id);
    const value = settled();
    for (const settle of waiting) settle(value);
  }

  #drop(id: string, settle: Settle | undefined): void {
    const waiting = this.#waiting.get(id)?.filter((s) => s !== settle);
    if (waiting && waiting.length > 0) this.#waiting.set(id, waiting);
    else this.#waiting.delete(id);
  }
}
