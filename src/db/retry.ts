import { isTransientDbError } from "./errors";

/** How often, and how patiently, a write is tried again. */
export interface RetryPolicy {
  /** Total tries, the first included. */
  attempts: number;
  /** Backoff before the second try, in ms; doubled for each further one. */
  baseDelayMs: number;
  /** Largest backoff between two tries, in ms. */
  maxDelayMs: number;
}

/**
 * The Durable Objects' writes to libSQL: five tries with under a second of backoff in all, enough to ride
 * out a lock held by a burst of writers or a dropped keep-alive connection, short enough that an
 * agent whose write cannot land is told (its socket closed) while it still has work to resend.
 */
export const DURABLE_WRITE_RETRY: RetryPolicy = { attempts: 5, baseDelayMs: 50, maxDelayMs: 800 };

/**
 * Runs `write`, trying again after a transient libSQL error (`isTransientDbError`) with jittered
 * exponential backoff ("full jitter", so a fleet that failed together does not retry together),
 * at most `policy.attempts` times. Any other error, or the last transient one, is thrown. `write`
 * must be safe to repeat: a lost connection may hide a write that did commit.
 * @example const facts = await retryTransient(() => recordHello(db, nodeId, facts))
 */
export async function retryTransient<T>(
  write: () => Promise<T>,
  policy: RetryPolicy = DURABLE_WRITE_RETRY,
  onRetry?: (error: unknown, attempt: number) => void,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (error) {
      if (attempt >= policy.attempts || !isTransientDbError(error)) throw error;
      onRetry?.(error, attempt);
      const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
      await new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling));
    }
  }
}
