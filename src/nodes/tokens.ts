import { eq } from "drizzle-orm";
import { encryptSecret, randomSecret, sha256Hex } from "../crypto/secrets";
import type { Database } from "../db/client";
import { nodes } from "../db/schema";
import { ApiError } from "../errors";

/**
 * Issues a new API token for a node: the old one stops working at once. Returns the token so the
 * caller can push it to the connected agent (it is also in the node's API answer).
 * @throws ApiError 404
 * @example const { apiToken } = await rotateNodeToken(db, config.encryptionKey, nodeId)
 */
export async function rotateNodeToken(
  db: Database,
  encryptionKey: string,
  nodeId: string,
): Promise<{ apiToken: string }> {
  const apiToken = randomSecret(32);
  await setToken(db, nodeId, apiToken, encryptionKey, null);
  return { apiToken };
}

/**
 * Invalidates a node's token (review H1, C18 revoke): the stored hash becomes that of a secret
 * nobody keeps, and `token_revoked_at` lets the node enrol again, into its own cluster, without
 * proving the old token.
 * @throws ApiError 404
 */
export async function revokeNodeToken(db: Database, encryptionKey: string, nodeId: string): Promise<void> {
  await setToken(db, nodeId, randomSecret(32), encryptionKey, Date.now());
}

async function setToken(
  db: Database,
  nodeId: string,
  token: string,
  encryptionKey: string,
  revokedAt: number | null,
): Promise<void> {
  const updated = await db
    .update(nodes)
    .set({
      apiTokenHash: await sha256Hex(token),
      apiTokenCiphertext: await encryptSecret(token, encryptionKey),
      tokenRevokedAt: revokedAt,
      updatedAt: Date.now(),
    })
    .where(eq(nodes.id, nodeId))
    .returning({ id: nodes.id });
  if (updated.length === 0) throw new ApiError("not_found", "Node not found");
}
