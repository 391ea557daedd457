import { isoOrNull, isoSeconds } from "../time";
import type { ApiTokenResponse } from "./schema";
import type { ApiTokenRow } from "./store";

/** A token as the API shows it (the hash never leaves). */
export function presentApiToken(row: ApiTokenRow): ApiTokenResponse {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    scopes: JSON.parse(row.scopes) as string[],
    cluster_names: row.clusterNames === null ? null : (JSON.parse(row.clusterNames) as string[]),
    expires_at: isoOrNull(row.expiresAt),
    last_used_at: isoOrNull(row.lastUsedAt),
    last_used_ip: row.lastUsedIp,
    created_by: { type: row.createdByType, id: row.createdById, name: row.createdByName },
    revoked: row.revokedAt !== null,
    revoked_at: isoOrNull(row.revokedAt),
    inserted_at: isoSeconds(row.insertedAt),
    updated_at: isoSeconds(row.updatedAt),
  };
}
