import { sha256Hex } from "../crypto/secrets";
import type { auditEvents } from "../db/schema";

export type AuditRow = typeof auditEvents.$inferSelect;

const encoder = new TextEncoder();
const hmacKeys = new Map<string, Promise<CryptoKey>>();

/**
 * The bytes an audit event's hash and signature cover: every recorded field and `prev_hash`, in a
 * fixed key order, so a change to any of them (or to the chain link) changes the result.
 */
export function canonicalAuditJson(row: AuditRow, prevHash: string | null): string {
  return JSON.stringify({
    actor_id: row.actorId,
    actor_name: row.actorName,
    actor_type: row.actorType,
    details: row.details,
    event: row.event,
    id: row.id,
    ip: row.ip,
    method: row.method,
    occurred_at: row.occurredAt,
    path: row.path,
    prev_hash: prevHash,
    request_id: row.requestId,
    resource_id: row.resourceId,
    resource_type: row.resourceType,
    seq: row.seq,
    status_code: row.statusCode,
    success: Boolean(row.success),
    user_agent: row.userAgent,
  });
}

function hmacKey(secret: string): Promise<CryptoKey> {
  let key = hmacKeys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
      "sign",
    ]);
    hmacKeys.set(secret, key);
  }
  return key;
}

/** Hex HMAC-SHA256 of `text` under `secret`. */
export async function hmacHex(secret: string, text: string): Promise<string> {
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", await hmacKey(secret), encoder.encode(text)));
  return Array.from(mac, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** An event's seal: the chain hash and, when a signing key is set, the HMAC signature. */
export async function sealOf(
  row: AuditRow,
  prevHash: string | null,
  signingKey: string | undefined,
): Promise<{ hash: string; signature: string | null }> {
  const canonical = canonicalAuditJson(row, prevHash);
  return {
    hash: await sha256Hex(canonical),
    signature: signingKey ? await hmacHex(signingKey, canonical) : null,
  };
}

/** Why a sealed row does not match its content, or null when hash and signature hold. */
export async function sealProblem(row: AuditRow, signingKey: string | undefined): Promise<string | null> {
  if (!row.hash) return "not sealed yet";
  const expected = await sealOf(row, row.prevHash, signingKey);
  if (expected.hash !== row.hash) return "content does not match its hash (the row was changed)";
  if (signingKey) {
    if (!row.signature) return "unsigned (sealed while AUDIT_SIGNING_KEY was unset)";
    if (expected.signature !== row.signature) return "signature mismatch (the row was changed or re-hashed)";
  }
  return null;
}
