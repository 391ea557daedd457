// First come, first served waiting for a namespace's write lock. SQLite has no queue for its lock:
// a writer that finds it taken gets SQLITE_BUSY and must try again. Every busy writer retrying on
// its own timer left the lock idle between a commit and the next retry, and was unfair: a writer
// that had waited seconds could lose to one whose timer happened to fire first (issue 23: enrolment
// p99 of 10 s in a burst of 16). Here busy writers wait in line; only the line's head tries again,
// the moment a transaction on the namespace ends.

/** How often the head of the line tries anyway: a lock taken outside this server is never announced. */
const POLL_MS = 25;

export class WriteQueue {
  /** @type {{ wake: () => void }[]} */
  #waiters = [];
  /** @type {NodeJS.Timeout | null} */
  #poll = null;

  /** Writers waiting now. */
  get length() {
    return this.#waiters.length;
  }

  /**
   * Resolves when it is this writer's turn to try the lock again: it is first in line and a
   * transaction ended (or `POLL_MS` passed), or its `deadline` (ms since the epoch) came, whatever its
   * place. `again`: the writer was woken but lost the lock, so it keeps the head of the line.
   * @param {number} deadline
   * @param {boolean} [again]
   * @returns {Promise<void>}
   */
  wait(deadline, again = false) {
    return new Promise((resolve) => {
      const waiter = {
        wake: () => {
          clearTimeout(timer);
          const i = this.#waiters.indexOf(waiter);
          if (i >= 0) this.#waiters.splice(i, 1);
          resolve();
        },
      };
      const timer = setTimeout(waiter.wake, Math.max(0, deadline - Date.now()));
      if (again) this.#waiters.unshift(waiter);
      else this.#waiters.push(waiter);
      this.#arm();
    });
  }

  /** A transaction (or an autocommit write) on the namespace ended: the first writer in line tries now. */
  released() {
    this.#waiters[0]?.wake();
  }

  #arm() {
    if (this.#poll || this.#waiters.length === 0) return;
    this.#poll = setTimeout(() => {
      this.#poll = null;
      this.#waiters[0]?.wake();
      this.#arm();
    }, POLL_MS);
  }
}
