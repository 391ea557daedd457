import { randomSecret, sha256Hex } from "../crypto/secrets";

// Prefixes make each kind of credential recognisable: secret scanners can match `otp_` (GitHub's
// and GitGuardian's custom patterns), and authentication knows which table to look in without a probe.

/** Prefix of scoped API tokens. */
export const API_TOKEN_PREFIX = "otp_";
/** Prefix of login session tokens. */
export const SESSION_TOKEN_PREFIX = "ots_";
/** Prefix of the short-lived tokens that SSE routes accept in `?token=`. */
export const STREAM_TOKEN_PREFIX = "otst_";

/** A new opaque secret with its kind's prefix and 256 bits of entropy. */
export function newSecret(prefix: string): string {
  return `${prefix}${randomSecret(32)}`;
}

/** The stored form of an opaque secret: hex SHA-256 (the secret itself is never stored). */
export function secretHash(secret: string): Promise<string> {
  return sha256Hex(secret);
}

/** What a token list shows of a secret: its prefix and first characters. */
export function displayPrefix(secret: string): string {
  return secret.slice(0, API_TOKEN_PREFIX.length + 6);
}
