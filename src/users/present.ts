import { isoOrNull, isoSeconds } from "../time";
import type { UserResponse } from "./schema";
import type { UserRow } from "./store";

/** A user as the API shows it (never the password hash). */
export function presentUser(row: UserRow): UserResponse {
  return {
    id: row.id,
    username: row.username,
    email: row.email,
    roles: row.roleNames,
    permissions: row.permissions,
    auth_provider: row.authProvider,
    disabled: row.disabled,
    locked_until: isoOrNull(row.lockedUntil),
    last_login_at: isoOrNull(row.lastLoginAt),
    inserted_at: isoSeconds(row.insertedAt),
    updated_at: isoSeconds(row.updatedAt),
  };
}
