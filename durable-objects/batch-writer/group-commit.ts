/** Options of a `GroupCommit`. */
export interface GroupCommitOptions<I> {
  /** Most items in one flush. */
  maxItems: number;
  /** Most total size (by `sizeOf`) in one flush; a single item larger than this still goes alone. */
  maxSize: number;
  sizeOf(item: I): number;
  /** Extra attempts of a failed flush before its items are tried one by one. */
  retries: number;
  /** Pause before a retry, in ms (jittered). */
  retryDelayMs: number;
  /**
   * How long a write waits for company when nothing is in flight, in ms (default 0: at once). For
   * rows whose moment matters less than their number, e.g. a fleet's status changes after a network
   * cut, which arrive spread over the sessions' alarms.
   */
  lingerMs?: number;
}

interface Waiting<I, O> {
  item: I;
  resolve(value: O): void;
  reject(reason: unknown): void;
}

/**
 * Group commit: items submitted while a flush is running wait and go together in the next one, so
 * a single item is written at once and a burst costs one write per flush instead of one per item.
 * `flush` must be all-or-nothing (one transaction) and safe to repeat (conditional writes): a
 * failed flush is retried, then split so one bad item cannot fail the others.
 */
export class GroupCommit<I, O> {
  readonly #waiting: Waiting<I, O>[] = [];
  #running = false;
  /** Writes that succeeded and the items they carried, since this object started (diagnostics, tests). */
  readonly written = { flushes: 0, items: 0 };

  constructor(
    private readonly flush: (items: I[]) => Promise<O[]>,
    private readonly options: GroupCommitOptions<I>,
  ) {}

  /** Queues an item; resolves with its own result once the flush that carried it is written. */
  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.#waiting.push({ item, resolve, reject });
      if (!this.#running) void this.#drain();
    });
  }

  /** Items waiting for a flush (not counting the one running). */
  get backlog(): number {
    return this.#waiting.length;
  }

  async #drain(): Promise<void> {
    this.#running = true;
    try {
      if (this.options.lingerMs) await sleep(this.options.lingerMs);
      while (this.#waiting.length > 0) await this.#flushGroup(this.#takeGroup());
    } finally {
      this.#running = false;
    }
  }

  #takeGroup(): Waiting<I, O>[] {
    const { maxItems, maxSize, sizeOf } = this.options;
    let size = 0;
    let count = 0;
    while (count < this.#waiting.length && count < maxItems) {
      const next = sizeOf(this.#waiting[count].item);
      if (count > 0 && size + next > maxSize) break;
      size += next;
      count++;
    }
    return this.#waiting.splice(0, count);
  }

  async #flushGroup(group: Waiting<I, O>[]): Promise<void> {
    let lastError: unknown;
    for (let attempt = 0; attempt <= this.options.retries; attempt++) {
      if (attempt > 0) await sleep(this.options.retryDelayMs * (0.5 + Math.random()));
      try {
        const results = await this.flush(group.map((w) => w.item));
        this.written.flushes++;
        this.written.items += group.length;
        for (const [i, w] of group.entries()) w.resolve(results[i]);
        return;
      } catch (err) {
        lastError = err;
      }
    }
    if (group.length === 1) {
      group[0].reject(lastError);
      return;
    }
    // One by one: an item that fails on its own fails alone.
    for (const waiting of group) {
      try {
        const [result] = await this.flush([waiting.item]);
        this.written.flushes++;
        this.written.items++;
        waiting.resolve(result);
      } catch (err) {
        waiting.reject(err);
      }
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
