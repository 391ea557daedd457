import { count, eq } from "drizzle-orm";
import { encryptSecret, randomSecret, sha256Hex } from "../crypto/secrets";
import type { Database } from "../db/client";
import { clusters, enrollmentKeys } from "../db/schema";
import { encodeKeyBlob } from "../enrollment/key-blob";
import { ApiError } from "../errors";
import type { ListQuery } from "../list-query/engine";
import { listPage, type Page } from "../list-query/page";
import type { EnrollmentKeyCreateInput, EnrollmentKeyUpdateInput } from "./schema";

export type EnrollmentKeyRow = typeof enrollmentKeys.$inferSelect & { clusterName: string };

/** Columns of a key joined with its cluster's name. */
const keyWithCluster = {
  id: enrollmentKeys.id,
  clusterId: enrollmentKeys.clusterId,
  name: enrollmentKeys.name,
  keyHash: enrollmentKeys.keyHash,
  keyCiphertext: enrollmentKeys.keyCiphertext,
  usesRemaining: enrollmentKeys.usesRemaining,
  expiredAt: enrollmentKeys.expiredAt,
  requiresApproval: enrollmentKeys.requiresApproval,
  origin: enrollmentKeys.origin,
  lastUsedAt: enrollmentKeys.lastUsedAt,
  insertedAt: enrollmentKeys.insertedAt,
  updatedAt: enrollmentKeys.updatedAt,
  clusterName: clusters.name,
};

/** What minting a key needs from the Worker's config. */
export interface KeyMinting {
  encryptionKey: string;
  /** The URL agents dial, written into the blob: PUBLIC_API_URL, else the request's origin. */
  server: string;
}

/** Loads one key with its cluster name, or throws 404. */
export async function getKeyById(db: Database, id: string): Promise<EnrollmentKeyRow> {
  const [row] = await db
    .select(keyWithCluster)
    .from(enrollmentKeys)
    .innerJoin(clusters, eq(clusters.id, enrollmentKeys.clusterId))
    .where(eq(enrollmentKeys.id, id))
    .limit(1);
  if (!row) throw new ApiError("not_found", "Enrollment key not found");
  return row;
}

/**
 * Mints a key for a cluster: a 256-bit secret wrapped in the base64 JSON blob
 * `{server, key}`; the blob is stored encrypted, the secret's hash indexed.
 */
export async function createEnrollmentKey(
  db: Database,
  minting: KeyMinting,
  cluster: { id: string; name: string },
  input: EnrollmentKeyCreateInput,
  origin: "api" | "public" = "api",
): Promise<EnrollmentKeyRow> {
  const secret = randomSecret(32);
  const blob = encodeKeyBlob({ server: minting.server, key: secret });
  const now = Date.now();
  const row = {
    id: crypto.randomUUID(),
    clusterId: cluster.id,
    name: input.name ?? null,
    keyHash: await sha256Hex(secret),
    keyCiphertext: await encryptSecret(blob, minting.encryptionKey),
    usesRemaining: input.uses_remaining === undefined ? 1 : input.uses_remaining,
    expiredAt: input.expired_at ?? null,
    requiresApproval: input.requires_approval ?? false,
    origin,
    lastUsedAt: null,
    insertedAt: now,
    updatedAt: now,
  };
  await db.insert(enrollmentKeys).values(row);
  return { ...row, clusterName: cluster.name };
}

/** Changes the fields present in `input` (null unsets); 404 when the key does not exist. */
export async function updateEnrollmentKey(
  db: Database,
  id: string,
  input: EnrollmentKeyUpdateInput,
): Promise<EnrollmentKeyRow> {
  const changes: Partial<typeof enrollmentKeys.$inferInsert> = {};
  if (input.name !== undefined) changes.name = input.name;
  if (input.uses_remaining !== undefined) changes.usesRemaining = input.uses_remaining;
  if (input.expired_at !== undefined) changes.expiredAt = input.expired_at;
  if (input.requires_approval !== undefined) changes.requiresApproval = input.requires_approval;
  if (Object.keys(changes).length > 0) {
    const updated = await db
      .update(enrollmentKeys)
      .set({ ...changes, updatedAt: Date.now() })
      .where(eq(enrollmentKeys.id, id))
      .returning({ id: enrollmentKeys.id });
    if (updated.length === 0) throw new ApiError("not_found", "Enrollment key not found");
  }
  return getKeyById(db, id);
}

/** Deletes a key, or a 404 when there is none. */
export async function deleteEnrollmentKey(db: Database, id: string): Promise<void> {
  const deleted = await db
    .delete(enrollmentKeys)
    .where(eq(enrollmentKeys.id, id))
    .returning({ id: enrollmentKeys.id });
  if (deleted.length === 0) throw new ApiError("not_found", "Enrollment key not found");
}

/** One page of keys by `enrollmentKeyListSpec` (it filters and sorts on the cluster's name). */
export function listEnrollmentKeys(db: Database, q: ListQuery): Promise<Page<EnrollmentKeyRow>> {
  const joined = eq(clusters.id, enrollmentKeys.clusterId);
  return listPage(
    db,
    q,
    db.select(keyWithCluster).from(enrollmentKeys).innerJoin(clusters, joined),
    db.select({ total: count() }).from(enrollmentKeys).innerJoin(clusters, joined),
  );
}
