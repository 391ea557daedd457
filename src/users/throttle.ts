import { and, eq, gt, inArray, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { loginThrottle } from "../db/schema";

/** Failures allowed in one window before the key is locked. */
export const MAX_LOGIN_FAILURES = 5;
/** The failure window and the lock's length. */
export const LOGIN_WINDOW_MS = 15 * 60_000;

/** The throttle key of a username (case-folded, so `Admin` and `admin` share a budget) or an IP. */
export function throttleKey(kind: "user" | "ip", value: string): string {
  return kind === "user" ? `user:${value.toLowerCase()}` : `ip:${value}`;
}

/** The latest `locked_until` among `keys` still in the future, or null. */
export async function lockedUntil(
  db: Database,
  keys: readonly string[],
  now: number,
): Promise<number | null> {
  const rows = await db
    .select({ until: loginThrottle.lockedUntil })
    .from(loginThrottle)
    .where(and(inArray(loginThrottle.key, [...keys]), gt(loginThrottle.lockedUntil, now)));
  return rows.reduce<number | null>(
    (max, r) => (r.until !== null && (max === null || r.until > max) ? r.until : max),
    null,
  );
}

/**
 * Counts one failed login against `key`: a new window when the last one is over, and a lock of
 * LOGIN_WINDOW_MS once the window holds MAX_LOGIN_FAILURES. One upsert, so concurrent failures all count.
 */
export function recordLoginFailure(db: Database, key: string, now: number) {
  const windowOpen = sql`${loginThrottle.windowStartedAt} >= ${now - LOGIN_WINDOW_MS}`;
  return db
    .insert(loginThrottle)
    .values({ key, failures: 1, windowStartedAt: now, lockedUntil: null })
    .onConflictDoUpdate({
      target: loginThrottle.key,
      set: {
        failures: sql`CASE WHEN ${windowOpen} THEN ${loginThrottle.failures} + 1 ELSE 1 END`,
        windowStartedAt: sql`CASE WHEN ${windowOpen} THEN ${loginThrottle.windowStartedAt} ELSE ${now} END`,
        lockedUntil: sql`CASE WHEN ${windowOpen} AND ${loginThrottle.failures} + 1 >= ${MAX_LOGIN_FAILURES} THEN ${now + LOGIN_WINDOW_MS} ELSE ${loginThrottle.lockedUntil} END`,
      },
    });
}

/** Forgets a key's failures (after a successful login). */
export function clearLoginFailures(db: Database, key: string) {
  return db.delete(loginThrottle).where(eq(loginThrottle.key, key));
}
