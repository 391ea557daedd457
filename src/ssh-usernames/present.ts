import type { Database } from "../db/client";
import { presentPublicKey } from "../ssh-public-keys/present";
import { keysOfUsernames } from "../ssh-public-keys/store";
import { isoSeconds } from "../time";
import type { SshUsernameResponse } from "./schema";
import type { UsernameRow } from "./store";

/**
 * Usernames with their keys, in the contract's `SshUsername` shape; the keys of the whole page
 * come in one query. The password hash never leaves.
 */
export async function presentUsernames(db: Database, rows: UsernameRow[]): Promise<SshUsernameResponse[]> {
  const keys = await keysOfUsernames(
    db,
    rows.map((r) => r.id),
  );
  return rows.map((row) => ({
    has_password: Boolean(row.hasPassword),
    id: row.id,
    inserted_at: isoSeconds(row.insertedAt),
    node_id: row.nodeId,
    public_keys: keys.filter((k) => k.sshUsernameId === row.id).map(presentPublicKey),
    updated_at: isoSeconds(row.updatedAt),
    username: row.username,
  }));
}

/** One username with its keys. */
export async function presentUsername(db: Database, row: UsernameRow): Promise<SshUsernameResponse> {
  const [shown] = await presentUsernames(db, [row]);
  return shown;
}
