import { RateLimitedError } from "../../src/errors";
import type { AppContext } from "./request-context";

/** Each binding allows this many calls per key per period (wrangler.toml `[[ratelimits]]`). */
export const BINDING_LIMIT = 10;
/** The bindings' period in seconds, and so the `Retry-After` of a refusal. */
export const PERIOD_SECONDS = 60;

/**
 * The client's address as Cloudflare reports it; `cf-connecting-ip` is set by the edge and
 * cannot be forged by the client (X-Forwarded-For is never read).
 */
export function clientIp(c: AppContext): string {
  return c.req.header("cf-connecting-ip") ?? "unknown";
}

/**
 * Counts one request of `key` against `perMinute` on a Workers Rate Limiting binding; throws 429
 * `rate_limited` with `Retry-After` past it. The binding's limit is fixed in wrangler.toml, so a
 * configured limit is spread over ⌈perMinute / 10⌉ sub-keys tried in order (a request passes when
 * one still has room). `perMinute` 0, or no binding (plain `wrangler dev` without it), means no limit.
 * @example await enforceRateLimit(c.env.ENROLL_RATE_LIMITER, `enroll:${clientIp(c)}`, config.rateLimits.enroll)
 */
export async function enforceRateLimit(
  limiter: RateLimit | undefined,
  key: string,
  perMinute: number,
): Promise<void> {
  if (!limiter || perMinute <= 0) return;
  const slots = Math.ceil(perMinute / BINDING_LIMIT);
  for (let slot = 0; slot < slots; slot++) {
    if ((await limiter.limit({ key: `${key}#${slot}` })).success) return;
  }
  throw new RateLimitedError(PERIOD_SECONDS);
}
