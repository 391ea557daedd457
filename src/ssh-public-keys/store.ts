import { asc, count, eq, inArray, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { isForeignKeyViolation, isUniqueViolation } from "../db/errors";
import { clusters, nodes, sshPublicKeys, sshUsernames } from "../db/schema";
import { ApiError } from "../errors";
import type { ListQuery } from "../list-query/engine";
import { listPage, type Page } from "../list-query/page";
import { fingerprint, parsePublicKey } from "../ssh/public-key";

const columns = {
  id: sshPublicKeys.id,
  sshUsernameId: sshPublicKeys.sshUsernameId,
  keyName: sshPublicKeys.keyName,
  publicKey: sshPublicKeys.publicKey,
  insertedAt: sshPublicKeys.insertedAt,
  updatedAt: sshPublicKeys.updatedAt,
};

/** A key as it is shown (no fingerprint). */
export type PublicKeyRow = Pick<typeof sshPublicKeys.$inferSelect, keyof typeof columns>;

/** A key ready to insert, fingerprint included. */
export type NewPublicKeyRow = typeof sshPublicKeys.$inferInsert & PublicKeyRow & { fingerprint: string };

/**
 * A key row ready to insert: the text normalised, the fingerprint taken over the decoded blob.
 * `text` must already have passed `PublicKeyInput`; a key it let through but that fails to parse is a 422.
 */
export async function newKeyRow(
  sshUsernameId: string,
  keyName: string,
  text: string,
  now: number,
): Promise<NewPublicKeyRow> {
  const parsed = parsePublicKey(text);
  if (!parsed.ok)
    throw new ApiError("validation_failed", "Validation failed", { public_key: [parsed.error] });
  return {
    id: crypto.randomUUID(),
    sshUsernameId,
    keyName,
    publicKey: parsed.key.normalized,
    fingerprint: await fingerprint(parsed.key.blob),
    insertedAt: now,
    updatedAt: now,
  };
}

/** The 409 for a key blob the username already has. */
function duplicateKeyError(username: string): ApiError {
  return new ApiError("conflict", `This public key is already registered for SSH username "${username}"`, {
    public_key: ["has already been taken"],
  });
}

/**
 * Adds a key to an SSH username: 404 when the username does not exist (or is deleted meanwhile),
 * 409 when it already has the same key data.
 */
export async function createPublicKey(
  db: Database,
  sshUsernameId: string,
  keyName: string,
  text: string,
): Promise<PublicKeyRow> {
  const [owner] = await db
    .select({ id: sshUsernames.id, username: sshUsernames.username })
    .from(sshUsernames)
    .where(eq(sshUsernames.id, sshUsernameId))
    .limit(1);
  if (!owner) throw new ApiError("not_found", "SSH username not found");
  const row = await newKeyRow(owner.id, keyName, text, Date.now());
  try {
    await db.insert(sshPublicKeys).values(row);
  } catch (err) {
    if (isUniqueViolation(err)) throw duplicateKeyError(owner.username);
    if (isForeignKeyViolation(err)) throw new ApiError("not_found", "SSH username not found");
    throw err;
  }
  return row;
}

/** The key with this id, or a 404. */
export async function getPublicKey(db: Database, id: string): Promise<PublicKeyRow> {
  const [row] = await db.select(columns).from(sshPublicKeys).where(eq(sshPublicKeys.id, id)).limit(1);
  if (!row) throw new ApiError("not_found", "SSH public key not found");
  return row;
}

/** Deletes the key with this id, or a 404 when there is none. */
export async function deletePublicKey(db: Database, id: string): Promise<void> {
  const deleted = await db
    .delete(sshPublicKeys)
    .where(eq(sshPublicKeys.id, id))
    .returning({ id: sshPublicKeys.id });
  if (deleted.length === 0) throw new ApiError("not_found", "SSH public key not found");
}

/**
 * The keys of these usernames, oldest first (rowid keeps the order of keys created in one request).
 */
export async function keysOfUsernames(db: Database, usernameIds: string[]): Promise<PublicKeyRow[]> {
  if (usernameIds.length === 0) return [];
  return db
    .select(columns)
    .from(sshPublicKeys)
    .where(inArray(sshPublicKeys.sshUsernameId, usernameIds))
    .orderBy(asc(sshPublicKeys.insertedAt), sql`rowid`);
}

/** One page of keys; `sshPublicKeyListSpec` filters on the joined username, node and cluster. */
export function listPublicKeys(db: Database, q: ListQuery): Promise<Page<PublicKeyRow>> {
  return listPage(
    db,
    q,
    db
      .select(columns)
      .from(sshPublicKeys)
      .innerJoin(sshUsernames, eq(sshUsernames.id, sshPublicKeys.sshUsernameId))
      .innerJoin(nodes, eq(nodes.id, sshUsernames.nodeId))
      .innerJoin(clusters, eq(clusters.id, nodes.clusterId)),
    db
      .select({ total: count() })
      .from(sshPublicKeys)
      .innerJoin(sshUsernames, eq(sshUsernames.id, sshPublicKeys.sshUsernameId))
      .innerJoin(nodes, eq(nodes.id, sshUsernames.nodeId))
      .innerJoin(clusters, eq(clusters.id, nodes.clusterId)),
  );
}
