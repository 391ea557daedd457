// Web Crypto only, so signing (workerd) and verification examples (Node, tests) share one implementation.

const encoder = new TextEncoder();
const keyCache = new Map<string, Promise<CryptoKey>>();

/** The header carrying `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`. */
export const SIGNATURE_HEADER = "X-Edge-Signature";

/** Signatures older (or newer) than this are refused by `verifyWebhookSignature` by default. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keyCache.get(secret);
  if (!key) {
    key = crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
      "sign",
    ]);
    // Secrets are few (one per webhook); a bounded cache keeps a long-lived isolate from growing.
    if (keyCache.size >= 256) keyCache.clear();
    keyCache.set(secret, key);
  }
  return key;
}

/** Hex HMAC-SHA256 of `message` under `secret` (both UTF-8). */
export async function hmacSha256Hex(secret: string, message: string): Promise<string> {
  const mac = new Uint8Array(
    await crypto.subtle.sign("HMAC", await hmacKey(secret), encoder.encode(message)),
  );
  return Array.from(mac, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * The `X-Edge-Signature` value for a raw request body sent at `timestamp` (unix seconds).
 * @example await signWebhook(secret, body) // "t=1767225600,v1=5f2b…"
 */
export async function signWebhook(
  secret: string,
  body: string,
  timestamp = Math.floor(Date.now() / 1000),
): Promise<string> {
  return `t=${timestamp},v1=${await hmacSha256Hex(secret, `${timestamp}.${body}`)}`;
}

/** Splits a signature header into its timestamp and every `v1` value; null when malformed. */
export function parseSignatureHeader(header: string): { timestamp: number; signatures: string[] } | null {
  let timestamp: number | null = null;
  const signatures: string[] = [];
  for (const part of header.split(",")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === "t" && /^\d{1,12}$/.test(value)) timestamp = Number(value);
    else if (key === "v1" && /^[0-9a-f]{64}$/i.test(value)) signatures.push(value.toLowerCase());
  }
  return timestamp === null || signatures.length === 0 ? null : { timestamp, signatures };
}

function constantTimeEqualHex(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/**
 * Checks a signature header against the raw body: some `v1` must match (compared in
 * constant time) and `t` must lie within `toleranceSeconds` of `now` (replay protection).
 * @example await verifyWebhookSignature(secret, rawBody, req.headers["x-edge-signature"])
 */
export async function verifyWebhookSignature(
  secret: string,
  body: string,
  header: string,
  options: { toleranceSeconds?: number; now?: number } = {},
): Promise<boolean> {
  const parsed = parseSignatureHeader(header);
  if (!parsed) return false;
  const now = options.now ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - parsed.timestamp) > (options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS))
    return false;
  const expected = await hmacSha256Hex(secret, `${parsed.timestamp}.${body}`);
  return parsed.signatures.map((s) => constantTimeEqualHex(s, expected)).includes(true);
}
