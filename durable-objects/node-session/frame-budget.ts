/**
 * A token bucket on one agent connection's frames: `burst` frames at once, then `rate` per second.
 * Every frame may cost libSQL writes shared by the whole fleet, so a node that sends faster than
 * any honest agent (heartbeats every few seconds, results and output as commands finish) is cut
 * off rather than queued. In memory: an object evicted from memory starts its connections with a
 * full bucket, which only forgives a burst, never an unbounded stream.
 */
export class FrameBudget {
  #tokens: number;
  #refilledAt: number;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    now = Date.now(),
  ) {
    this.#tokens = burst;
    this.#refilledAt = now;
  }

  /** Spends one token for a frame; false when the bucket is empty (the frame is over budget). */
  take(now = Date.now()): boolean {
    const elapsed = Math.max(0, now - this.#refilledAt) / 1000;
    this.#tokens = Math.min(this.burst, this.#tokens + elapsed * this.rate);
    this.#refilledAt = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}
