import type { Principal } from "../../src/access/principal";

/** What a stored credential resolved to, kept for `AUTH_CACHE_SECONDS` in this isolate. */
export interface CachedPrincipal {
  principal: Principal;
  lastUsedAt: number | null;
  /** When the credential itself expires (a session's or token's `expires_at`); null = never. */
  expiresAt: number | null;
}

interface Entry extends CachedPrincipal {
  cachedUntil: number;
}

// Per isolate: a session or token is read from libSQL once per AUTH_CACHE_SECONDS instead of on every
// request. Bounded, oldest first out, so a flood of distinct secrets cannot grow it without limit.
const MAX_ENTRIES = 10_000;
const entries = new Map<string, Entry>();

/** The cache key: the secret's hash within one database (isolates serve one, tests several). */
export function cacheKey(databaseUrl: string, secretHash: string): string {
  return `${databaseUrl}\u0000${secretHash}`;
}

/** The cached resolution, unless it is older than the TTL or the credential has expired since. */
export function cachedPrincipal(key: string, now: number): CachedPrincipal | null {
  const entry = entries.get(key);
  if (!entry) return null;
  if (entry.cachedUntil <= now || (entry.expiresAt !== null && entry.expiresAt <= now)) {
    entries.delete(key);
    return null;
  }
  return entry;
}

/** Keeps a resolution for `ttlMs` (nothing when 0). Failed resolutions are never cached. */
export function cachePrincipal(key: string, found: CachedPrincipal, ttlMs: number, now: number): void {
  if (ttlMs <= 0) return;
  entries.delete(key);
  if (entries.size >= MAX_ENTRIES) {
    const oldest = entries.keys().next().value;
    if (oldest !== undefined) entries.delete(oldest);
  }
  entries.set(key, { ...found, cachedUntil: now + ttlMs });
}

/** Records a `last_used_at` touch on the cached entry, so the once-a-minute touch is not repeated. */
export function noteTouched(key: string, at: number): void {
  const entry = entries.get(key);
  if (entry) entry.lastUsedAt = at;
}

/**
 * Drops every cached resolution of this isolate: called after a change to users, roles, tokens or
 * sessions, so it takes effect at once here; other isolates see it within AUTH_CACHE_SECONDS.
 */
export function forgetPrincipals(): void {
  entries.clear();
}
