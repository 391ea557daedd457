import { keyPrincipal, type Principal } from "../../src/access/principal";
import { API_TOKEN_PREFIX, SESSION_TOKEN_PREFIX, secretHash } from "../../src/access/secrets";
import { readStreamToken } from "../../src/access/stream-token";
import { findTokenPrincipal, touchApiToken } from "../../src/api-tokens/store";
import { constantTimeEqual } from "../../src/crypto/secrets";
import { findSessionPrincipal, touchSession } from "../../src/sessions/store";
import { ApiError } from "../errors";
import { cachedPrincipal, cacheKey, cachePrincipal, noteTouched } from "./principal-cache";
import { enforceRateLimit, clientIp as limiterKeyIp } from "./rate-limit";
import type { AppContext } from "./request-context";

/** The caller's address as Cloudflare reports it (null in local tests). */
export function clientIp(c: AppContext): string | null {
  return c.req.header("cf-connecting-ip") ?? null;
}

// `Authorization: Bearer <secret>`, or `X-API-Token: <secret>` (the alias some CI tools expect).
function presentedSecret(c: AppContext): string | null {
  const header = c.req.header("authorization");
  if (header !== undefined) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    return match ? match[1] : null;
  }
  const alias = c.req.header("x-api-token")?.trim();
  return alias ? alias : null;
}

// Bookkeeping writes after the answer: a failed touch must not fail the request it describes.
function later(c: AppContext, work: Promise<unknown>): void {
  const guarded = work.catch(() => undefined);
  try {
    c.executionCtx.waitUntil(guarded);
  } catch {
    // No execution context (direct app.request in a test): the promise still runs.
  }
}

async function keyMatch(c: AppContext, secret: string): Promise<Principal | null> {
  const { apiKeys } = c.get("config");
  // Every configured key is compared, so timing does not tell which one nearly matched.
  const results = await Promise.all(apiKeys.map((key) => constantTimeEqual(secret, key)));
  const index = results.indexOf(true);
  if (index < 0) return null;
  return keyPrincipal(apiKeys[index] === c.env.MASTER_KEY && apiKeys[index] !== c.env.API_KEY);
}

async function lookUp(c: AppContext, secret: string, hash: string, now: number) {
  const db = c.get("db");
  if (secret.startsWith(API_TOKEN_PREFIX)) return findTokenPrincipal(db, hash, now);
  if (secret.startsWith(SESSION_TOKEN_PREFIX)) return findSessionPrincipal(db, hash, now);
  return null;
}

// A session or API token: from this isolate's cache (AUTH_CACHE_SECONDS) or libSQL. `last_used_at`
// is still touched at most once a minute, cached or not.
async function storedPrincipal(c: AppContext, secret: string): Promise<Principal | null> {
  if (!secret.startsWith(API_TOKEN_PREFIX) && !secret.startsWith(SESSION_TOKEN_PREFIX)) return null;
  const db = c.get("db");
  const now = Date.now();
  const hash = await secretHash(secret);
  const key = cacheKey(c.env.LIBSQL_URL ?? "", hash);
  let found = cachedPrincipal(key, now);
  if (!found) {
    found = await lookUp(c, secret, hash, now);
    if (!found) return null;
    cachePrincipal(key, found, c.get("config").authCacheMs, now);
  }
  const { principal } = found;
  if (found.lastUsedAt === null || found.lastUsedAt < now - 60_000) {
    noteTouched(key, now);
    if (principal.type === "api_token") later(c, touchApiToken(db, principal.id, clientIp(c), now));
    else if (principal.sessionId) later(c, touchSession(db, principal.sessionId, now));
  }
  return principal;
}

/**
 * Resolves the caller to a principal: the API or master key, a user session (`ots_…`), or an API
 * token (`otp_…`). On an SSE operation a `?token=` stream token is accepted instead, and only there;
 * a key, session or API token in `?token=` is refused, so long-lived secrets never sit in URLs.
 */
export async function authenticate(c: AppContext, options: { streamToken: boolean }): Promise<Principal> {
  const queryToken = new URL(c.req.url).searchParams.get("token");
  if (options.streamToken && queryToken !== null) {
    const path = new URL(c.req.url).pathname;
    const principal = await readStreamToken(queryToken, path, c.get("config").encryptionKey, Date.now());
    if (!principal) throw new ApiError("unauthorized", "Invalid or expired stream token for this path");
    return principal;
  }
  const secret = presentedSecret(c);
  if (!secret)
    return refuse(c, "Missing credentials: send Authorization: Bearer <API key, session token or API token>");
  const principal = (await keyMatch(c, secret)) ?? (await storedPrincipal(c, secret));
  if (!principal) return refuse(c, "Invalid, expired or revoked credentials");
  return principal;
}

// A failed authentication counts against the client's limit: past it, 429 instead of 401.
async function refuse(c: AppContext, message: string): Promise<never> {
  await enforceRateLimit(
    c.env.AUTH_FAILURE_RATE_LIMITER,
    `auth:${limiterKeyIp(c)}`,
    c.get("config").rateLimits.authFailures,
  );
  throw new ApiError("unauthorized", message);
}
