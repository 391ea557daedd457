import { isoSeconds } from "../time";
import type { SshPublicKeyResponse } from "./schema";
import type { PublicKeyRow } from "./store";

/** A key row as the contract's `SshPublicKey` (the fingerprint stays internal). */
export function presentPublicKey(row: PublicKeyRow): SshPublicKeyResponse {
  return {
    id: row.id,
    inserted_at: isoSeconds(row.insertedAt),
    key_name: row.keyName,
    public_key: row.publicKey,
    ssh_username_id: row.sshUsernameId,
    updated_at: isoSeconds(row.updatedAt),
  };
}
