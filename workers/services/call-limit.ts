/**
 * At most `limit` tasks running at once among all that go through it; the others wait their turn,
 * first come first served. One per invocation (never module state: a promise settled from another
 * request's context must not be awaited in this one).
 * @example const limit = new CallLimit(32); await Promise.all(ids.map((id) => limit.run(() => call(id))));
 */
export class CallLimit {
  #running = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(readonly limit: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#running >= this.limit) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    else this.#running++;
    try {
      return await task();
    } finally {
      // The slot passes straight to the next waiter (the count stays), or is freed.
      const next = this.#waiting.shift();
      if (next) next();
      else this.#running--;
    }
  }
}
