import { type SQL, sql } from "drizzle-orm";
import { roles, userRoles } from "../db/schema";

/** SQL yielding a JSON array of the `permissions` JSON texts of every role of the user `userId`. */
export function rolePermissionsSql(userId: SQL): SQL<string> {
  return sql<string>`(SELECT json_group_array(${roles.permissions}) FROM ${userRoles} JOIN ${roles} ON ${roles.id} = ${userRoles.roleId} WHERE ${userRoles.userId} = ${userId})`;
}

/** SQL yielding a JSON array of the user's role names. */
export function roleNamesSql(userId: SQL): SQL<string> {
  return sql<string>`(SELECT json_group_array(${roles.name}) FROM ${userRoles} JOIN ${roles} ON ${roles.id} = ${userRoles.roleId} WHERE ${userRoles.userId} = ${userId})`;
}

/** Flattens `rolePermissionsSql`'s value into one deduplicated list of patterns. */
export function parseRolePermissions(text: string | null): string[] {
  if (!text) return [];
  const out = new Set<string>();
  for (const perms of JSON.parse(text) as string[]) {
    for (const p of JSON.parse(perms) as string[]) out.add(p);
  }
  return [...out];
}
