import { isoSeconds } from "../time";
import type { RoleResponse } from "./schema";
import type { RoleRow } from "./store";

/** A role as the API shows it. */
export function presentRole(row: RoleRow): RoleResponse {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    permissions: JSON.parse(row.permissions) as string[],
    is_system: row.isSystem,
    user_count: row.userCount,
    inserted_at: isoSeconds(row.insertedAt),
    updated_at: isoSeconds(row.updatedAt),
  };
}
