/**
 * Moves rollouts on after their results are written, coalesced: commands marked while an advance
 * is running go together in the next one, so a burst of a rollout's results (a window of 100
 * finishing within moments) costs one advance per round instead of one write transaction per
 * result, and a lone result's advance starts at once. `advance` must be safe to repeat (a rollout
 * advance recounts its window in its own transaction); one that fails is logged and left to the
 * next result of the same command or the cron's pass over running rollouts.
 */
export class RolloutPacer {
  readonly #marked = new Set<string>();
  #running = false;
  /** Advances run and the commands they carried, since this object started (diagnostics, tests). */
  readonly advanced = { rounds: 0, commands: 0 };

  constructor(
    private readonly advance: (commandIds: string[]) => Promise<void>,
    private readonly onError: (error: unknown, commandIds: string[]) => void,
  ) {}

  /** Asks for these commands' rollouts to be advanced in the next round (at once when none runs). */
  mark(commandIds: Iterable<string>): void {
    for (const id of commandIds) this.#marked.add(id);
    if (!this.#running && this.#marked.size > 0) void this.#drain();
  }

  async #drain(): Promise<void> {
    this.#running = true;
    try {
      while (this.#marked.size > 0) {
        const ids = [...this.#marked];
        this.#marked.clear();
        try {
          await this.advance(ids);
          this.advanced.rounds++;
          this.advanced.commands += ids.length;
        } catch (error) {
          this.onError(error, ids);
        }
      }
    } finally {
      this.#running = false;
    }
  }
}
