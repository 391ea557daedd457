import { eq } from "drizzle-orm";
import { decryptSecret, encryptSecret, randomSecret, sha256Hex } from "../../src/crypto/secrets";
import type { Database } from "../../src/db/client";
import { clusters, enrollmentKeys } from "../../src/db/schema";
import { encodeKeyBlob } from "../../src/enrollment/key-blob";
import { isoOrNull, isoSeconds } from "../../src/time";
import type { Config } from "../env";
import { ApiError } from "../errors";

/** The seed's `EnrollmentKeyResponse`. */
export interface EnrollmentKeyResponse {
  cluster_name: string;
  expired_at: string | null;
  id: string;
  inserted_at: string;
  key: string;
  last_used_at: string | null;
  name: string | null;
  updated_at: string;
  uses_remaining: number | null;
}

export type EnrollmentKeyRow = typeof enrollmentKeys.$inferSelect & { clusterName: string };

/** Columns of a key joined with its cluster's name. */
export const keyWithCluster = {
  id: enrollmentKeys.id,
  clusterId: enrollmentKeys.clusterId,
  name: enrollmentKeys.name,
  keyHash: enrollmentKeys.keyHash,
  keyCiphertext: enrollmentKeys.keyCiphertext,
  usesRemaining: enrollmentKeys.usesRemaining,
  expiredAt: enrollmentKeys.expiredAt,
  lastUsedAt: enrollmentKeys.lastUsedAt,
  insertedAt: enrollmentKeys.insertedAt,
  updatedAt: enrollmentKeys.updatedAt,
  clusterName: clusters.name,
};

/** Renders a key row; the blob is decrypted so operators can copy it again. */
export async function presentKey(row: EnrollmentKeyRow, config: Config): Promise<EnrollmentKeyResponse> {
  return {
    cluster_name: row.clusterName,
    expired_at: isoOrNull(row.expiredAt),
    id: row.id,
    inserted_at: isoSeconds(row.insertedAt),
    key: await decryptSecret(row.keyCiphertext, config.encryptionKey),
    last_used_at: isoOrNull(row.lastUsedAt),
    name: row.name,
    updated_at: isoSeconds(row.updatedAt),
    uses_remaining: row.usesRemaining,
  };
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
  config: Config,
  cluster: { id: string; name: string },
  input: { name?: string | null; uses_remaining?: number | null; expired_at?: number | null },
  requestOrigin: string,
): Promise<EnrollmentKeyRow> {
  const secret = randomSecret(32);
  const blob = encodeKeyBlob({ server: config.publicApiUrl ?? requestOrigin, key: secret });
  const now = Date.now();
  const row = {
    id: crypto.randomUUID(),
    clusterId: cluster.id,
    name: input.name ?? null,
    keyHash: await sha256Hex(secret),
    keyCiphertext: await encryptSecret(blob, config.encryptionKey),
    usesRemaining: input.uses_remaining === undefined ? 1 : input.uses_remaining,
    expiredAt: input.expired_at ?? null,
    lastUsedAt: null,
    insertedAt: now,
    updatedAt: now,
  };
  await db.insert(enrollmentKeys).values(row);
  return { ...row, clusterName: cluster.name };
}
