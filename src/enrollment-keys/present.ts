import { decryptSecret } from "../crypto/secrets";
import { isoOrNull, isoSeconds } from "../time";
import type { EnrollmentKeyResponse } from "./schema";
import type { EnrollmentKeyRow } from "./store";

/** Renders a key row; the blob is decrypted (with ENCRYPTION_KEY) so operators can copy it again. */
export async function presentKey(
  row: EnrollmentKeyRow,
  encryptionKey: string,
): Promise<EnrollmentKeyResponse> {
  return {
    cluster_name: row.clusterName,
    expired_at: isoOrNull(row.expiredAt),
    id: row.id,
    inserted_at: isoSeconds(row.insertedAt),
    key: await decryptSecret(row.keyCiphertext, encryptionKey),
    last_used_at: isoOrNull(row.lastUsedAt),
    name: row.name,
    requires_approval: row.requiresApproval,
    updated_at: isoSeconds(row.updatedAt),
    uses_remaining: row.usesRemaining,
  };
}

/** A page of key rows, presented. */
export function presentKeys(
  rows: EnrollmentKeyRow[],
  encryptionKey: string,
): Promise<EnrollmentKeyResponse[]> {
  return Promise.all(rows.map((row) => presentKey(row, encryptionKey)));
}
