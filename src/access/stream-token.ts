import { hmacHex } from "../audit/chain";
import { base64DecodeText, base64EncodeText } from "../crypto/secrets";
import type { Principal } from "./principal";
import { STREAM_TOKEN_PREFIX } from "./secrets";

/** How long a stream token is accepted. */
export const STREAM_TOKEN_TTL_MS = 60_000;

interface StreamClaims {
  /** The principal, as it was when the token was issued (at most a minute ago). */
  principal: Principal;
  path: string;
  exp: number;
}

// A separate key per purpose: the same ENCRYPTION_KEY must never give the same MAC for two uses.
function macKey(secret: string): string {
  return `outpost-stream-token:${secret}`;
}

function toUrlSafe(b64: string): string {
  return b64.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromUrlSafe(text: string): string {
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/");
  return b64 + "=".repeat((4 - (b64.length % 4)) % 4);
}

/**
 * A stateless token for one SSE path: the principal, the path and the expiry, MACed with a key
 * derived from `secret`. Nothing is stored; it cannot be revoked, hence the one-minute life.
 * @example issueStreamToken(principal, "/api/v1/command_executions/…/stream", env.ENCRYPTION_KEY, Date.now())
 */
export async function issueStreamToken(
  principal: Principal,
  path: string,
  secret: string,
  now: number,
): Promise<{ token: string; expiresAt: number }> {
  const exp = now + STREAM_TOKEN_TTL_MS;
  const body = toUrlSafe(base64EncodeText(JSON.stringify({ principal, path, exp } satisfies StreamClaims)));
  const mac = await hmacHex(macKey(secret), body);
  return { token: `${STREAM_TOKEN_PREFIX}${body}.${mac}`, expiresAt: exp };
}

/** The principal of a stream token valid for `path` at `now`; null for anything else. */
export async function readStreamToken(
  token: string,
  path: string,
  secret: string,
  now: number,
): Promise<Principal | null> {
  if (!token.startsWith(STREAM_TOKEN_PREFIX)) return null;
  const [body, mac] = token.slice(STREAM_TOKEN_PREFIX.length).split(".");
  if (!body || !mac || !/^[A-Za-z0-9_-]+$/.test(body)) return null;
  const expected = await hmacHex(macKey(secret), body);
  let diff = expected.length ^ mac.length;
  for (let i = 0; i < expected.length; i++) diff |= expected.charCodeAt(i) ^ (mac.charCodeAt(i) || 0);
  if (diff !== 0) return null;
  let claims: StreamClaims;
  try {
    claims = JSON.parse(base64DecodeText(fromUrlSafe(body))) as StreamClaims;
  } catch {
    return null;
  }
  if (claims.path !== path || !(claims.exp > now)) return null;
  return claims.principal;
}
