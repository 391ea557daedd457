/** Most execution ids whose verdict is remembered; the oldest is forgotten first. */
const REMEMBERED = 1000;

/**
 * Decides whether live output for an execution is accepted: only for executions delivered to this
 * node and still live (`isLive`, one indexed libSQL read the first time an id is seen). Without it,
 * output frames for made-up ids each kept a buffer in the object until the object died. Verdicts are
 * remembered in memory (bounded), so a running command's chunks cost no reads after the first.
 */
export class OutputGate {
  readonly #verdicts = new Map<string, boolean>();

  constructor(private readonly isLive: (executionId: string) => Promise<boolean>) {}

  /** Whether output for `executionId` may be kept and fanned out. */
  async allows(executionId: string): Promise<boolean> {
    const known = this.#verdicts.get(executionId);
    if (known !== undefined) return known;
    const live = await this.isLive(executionId);
    if (this.#verdicts.size >= REMEMBERED) {
      const oldest = this.#verdicts.keys().next();
      if (!oldest.done) this.#verdicts.delete(oldest.value);
    }
    this.#verdicts.set(executionId, live);
    return live;
  }

  /** The execution ended: its verdict is no longer needed. */
  forget(executionId: string): void {
    this.#verdicts.delete(executionId);
  }
}
