import { and, count, eq, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { isForeignKeyViolation, isUniqueViolation } from "../db/errors";
import { clusters, nodes, sshPublicKeys, sshUsernames } from "../db/schema";
import { ApiError } from "../errors";
import type { ListQuery } from "../list-query/engine";
import { listPage, type Page } from "../list-query/page";
import { hashPassword } from "../ssh/password";
import { type NewPublicKeyRow, newKeyRow } from "../ssh-public-keys/store";
import type { SshUsernameCreateInput } from "./schema";

const columns = {
  id: sshUsernames.id,
  nodeId: sshUsernames.nodeId,
  username: sshUsernames.username,
  hasPassword: sql<number | boolean>`${sshUsernames.passwordHash} IS NOT NULL`,
  insertedAt: sshUsernames.insertedAt,
  updatedAt: sshUsernames.updatedAt,
};

/** A username as it is shown: whether it has a password, never the hash. */
export interface UsernameRow {
  id: string;
  nodeId: string;
  username: string;
  hasPassword: number | boolean;
  insertedAt: number;
  updatedAt: number;
}

function usernameTaken(username: string, nodeId: string): ApiError {
  return new ApiError("conflict", `SSH username "${username}" already exists on node ${nodeId}`, {
    username: ["has already been taken"],
  });
}

// Two keys of one request with the same data are a 422 naming both positions (the unique index
// would only say 409 for the username).
function rejectRepeatedKeys(keyRows: NewPublicKeyRow[]): void {
  const seen = new Map<string, number>();
  keyRows.forEach((row, i) => {
    const first = seen.get(row.fingerprint);
    if (first !== undefined) {
      throw new ApiError("validation_failed", "Validation failed", {
        [`public_keys.${i}.public_key`]: [`is the same key as public_keys.${first}`],
      });
    }
    seen.set(row.fingerprint, i);
  });
}

/**
 * Creates a username on a node with its keys in one batch. The password is hashed with Argon2id;
 * a username the node already has is a 409, a node deleted meanwhile a 404.
 */
export async function createUsername(
  db: Database,
  nodeId: string,
  input: SshUsernameCreateInput,
): Promise<UsernameRow> {
  const now = Date.now();
  const id = crypto.randomUUID();
  const keyRows = await Promise.all(
    (input.public_keys ?? []).map((k) => newKeyRow(id, k.key_name, k.public_key, now)),
  );
  rejectRepeatedKeys(keyRows);
  // Checked before hashing: Argon2 is the expensive part of this request.
  const [taken] = await db
    .select({ id: sshUsernames.id })
    .from(sshUsernames)
    .where(and(eq(sshUsernames.nodeId, nodeId), eq(sshUsernames.username, input.username)))
    .limit(1);
  if (taken) throw usernameTaken(input.username, nodeId);
  const passwordHash = typeof input.password === "string" ? hashPassword(input.password) : null;
  const insertUsername = db.insert(sshUsernames).values({
    id,
    nodeId,
    username: input.username,
    passwordHash,
    insertedAt: now,
    updatedAt: now,
  });
  try {
    if (keyRows.length > 0) await db.batch([insertUsername, db.insert(sshPublicKeys).values(keyRows)]);
    else await insertUsername;
  } catch (err) {
    // Keys were de-duplicated above, so a unique violation here is a racing username.
    if (isUniqueViolation(err)) throw usernameTaken(input.username, nodeId);
    if (isForeignKeyViolation(err)) throw new ApiError("not_found", "Node not found");
    throw err;
  }
  return {
    id,
    nodeId,
    username: input.username,
    hasPassword: passwordHash !== null,
    insertedAt: now,
    updatedAt: now,
  };
}

/** The username with this id, or a 404. */
export async function getUsername(db: Database, id: string): Promise<UsernameRow> {
  const [row] = await db.select(columns).from(sshUsernames).where(eq(sshUsernames.id, id)).limit(1);
  if (!row) throw new ApiError("not_found", "SSH username not found");
  return row;
}

/** Deletes a username and its keys, or a 404 when there is none. */
export async function deleteUsername(db: Database, id: string): Promise<void> {
  // The keys go explicitly in the same batch rather than relying on the foreign key's cascade alone.
  const [, deleted] = await db.batch([
    db.delete(sshPublicKeys).where(eq(sshPublicKeys.sshUsernameId, id)),
    db.delete(sshUsernames).where(eq(sshUsernames.id, id)).returning({ id: sshUsernames.id }),
  ]);
  if (deleted.length === 0) throw new ApiError("not_found", "SSH username not found");
}

/** One page of usernames; `sshUsernameListSpec` filters on the joined node and cluster. */
export function listUsernames(db: Database, q: ListQuery): Promise<Page<UsernameRow>> {
  return listPage(
    db,
    q,
    db
      .select(columns)
      .from(sshUsernames)
      .innerJoin(nodes, eq(nodes.id, sshUsernames.nodeId))
      .innerJoin(clusters, eq(clusters.id, nodes.clusterId)),
    db
      .select({ total: count() })
      .from(sshUsernames)
      .innerJoin(nodes, eq(nodes.id, sshUsernames.nodeId))
      .innerJoin(clusters, eq(clusters.id, nodes.clusterId)),
  );
}
