import { eq, inArray } from "drizzle-orm";
import { uncovered } from "../access/permissions";
import type { Principal } from "../access/principal";
import { API_TOKEN_PREFIX, displayPrefix, newSecret, secretHash } from "../access/secrets";
import { type AuditEntry, auditStatement } from "../audit/record";
import type { Database } from "../db/client";
import { apiTokens, clusters } from "../db/schema";
import { ApiError } from "../errors";
import type { ApiTokenCreateInput } from "./schema";
import { type ApiTokenRow, creatorOf } from "./store";

// A token's clusters: those asked for, which must lie inside the creator's own scope; a scoped
// creator that names none passes its scope on (a scoped token can never mint an unscoped one).
async function tokenClusters(db: Database, principal: Principal, asked: string[] | null | undefined) {
  const scope = principal.clusterScope;
  const names = asked ?? (scope ? [...scope] : null);
  if (names === null) return null;
  const outside = scope ? names.filter((n) => !scope.includes(n)) : [];
  if (outside.length > 0)
    throw new ApiError("forbidden", "A token cannot reach clusters its creator cannot", {
      cluster_names: outside.map((n) => `"${n}" is outside your cluster scope`),
    });
  const found = await db.select({ name: clusters.name }).from(clusters).where(inArray(clusters.name, names));
  const unknown = names.filter((n) => !found.some((f) => f.name === n));
  if (unknown.length > 0)
    throw new ApiError("validation_failed", "Validation failed", {
      cluster_names: unknown.map((n) => `unknown cluster "${n}"`),
    });
  return names;
}

/**
 * Creates a token for `principal`. Its scopes must be covered by the principal's own permissions
 * (403 naming the others), so nobody mints more power than they hold. Returns the row and the secret,
 * which is never stored (only its SHA-256) and never shown again.
 */
export async function createApiToken(
  db: Database,
  principal: Principal,
  input: ApiTokenCreateInput,
  audit: Omit<AuditEntry, "resourceId">,
): Promise<{ row: ApiTokenRow; secret: string }> {
  const missing = uncovered(principal.permissions, input.scopes);
  if (missing.length > 0)
    throw new ApiError("forbidden", "A token cannot hold permissions its creator lacks", {
      scopes: missing.map((s) => `"${s}" is not among your permissions`),
    });
  const clusterNames = await tokenClusters(db, principal, input.cluster_names);
  const secret = newSecret(API_TOKEN_PREFIX);
  const creator = creatorOf(principal);
  const now = Date.now();
  const id = crypto.randomUUID();
  const [[row]] = await db.batch([
    db
      .insert(apiTokens)
      .values({
        id,
        name: input.name,
        tokenHash: await secretHash(secret),
        prefix: displayPrefix(secret),
        scopes: JSON.stringify(input.scopes),
        clusterNames: clusterNames === null ? null : JSON.stringify(clusterNames),
        expiresAt: input.expires_at ?? null,
        createdByType: creator.type,
        createdById: creator.id,
        createdByName: creator.name,
        insertedAt: now,
        updatedAt: now,
      })
      .returning(),
    auditStatement(
      db,
      {
        ...audit,
        resourceId: id,
        details: { name: input.name, scopes: input.scopes, cluster_names: clusterNames },
      },
      now,
    ),
  ]);
  return { row, secret };
}

/** Revokes a token (at once; idempotent), with its audit event. */
export async function revokeApiToken(db: Database, row: ApiTokenRow, audit: AuditEntry): Promise<void> {
  const now = Date.now();
  await db.batch([
    db
      .update(apiTokens)
      .set({ revokedAt: row.revokedAt ?? now, updatedAt: now })
      .where(eq(apiTokens.id, row.id)),
    auditStatement(db, audit, now),
  ]);
}

/** Gives a live token a new secret (the old one stops working at once); 409 for a revoked token. */
export async function rotateApiToken(
  db: Database,
  row: ApiTokenRow,
  audit: AuditEntry,
): Promise<{ row: ApiTokenRow; secret: string }> {
  if (row.revokedAt !== null) throw new ApiError("conflict", "A revoked token cannot be rotated");
  const secret = newSecret(API_TOKEN_PREFIX);
  const now = Date.now();
  const [[updated]] = await db.batch([
    db
      .update(apiTokens)
      .set({ tokenHash: await secretHash(secret), prefix: displayPrefix(secret), updatedAt: now })
      .where(eq(apiTokens.id, row.id))
      .returning(),
    auditStatement(db, audit, now),
  ]);
  if (!updated) throw new ApiError("not_found", "API token not found");
  return { row: updated, secret };
}
