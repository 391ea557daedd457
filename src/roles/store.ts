import { count, eq, getTableColumns, inArray, sql } from "drizzle-orm";
import { type AuditEntry, auditStatement } from "../audit/record";
import type { Database } from "../db/client";
import { isUniqueViolation } from "../db/errors";
import { roles, userRoles } from "../db/schema";
import { ApiError } from "../errors";
import type { ListQuery } from "../list-query/engine";
import { listPage, type Page } from "../list-query/page";
import type { RoleCreateInput, RoleUpdateInput } from "./schema";

const userCount = sql<number>`(SELECT count(*) FROM ${userRoles} WHERE ${userRoles.roleId} = ${roles.id})`;

/** A role row with how many users hold it. */
export type RoleRow = typeof roles.$inferSelect & { userCount: number };

function selectRoles(db: Database) {
  return db.select({ ...getTableColumns(roles), userCount }).from(roles);
}

function taken(name: string): ApiError {
  return new ApiError("conflict", `Role "${name}" already exists`, { name: ["has already been taken"] });
}

/** One page of roles. */
export function listRoles(db: Database, q: ListQuery): Promise<Page<RoleRow>> {
  return listPage(db, q, selectRoles(db), db.select({ total: count() }).from(roles));
}

/** A role by id, or 404. */
export async function getRole(db: Database, id: string): Promise<RoleRow> {
  const [row] = await selectRoles(db).where(eq(roles.id, id)).limit(1);
  if (!row) throw new ApiError("not_found", "Role not found");
  return row;
}

/** Role ids for names (a user's `roles`); 422 naming the unknown ones. */
export async function roleIdsByName(
  db: Database,
  names: readonly string[],
  field = "roles",
): Promise<string[]> {
  if (names.length === 0) return [];
  const found = await db
    .select({ id: roles.id, name: roles.name })
    .from(roles)
    .where(inArray(roles.name, [...names]));
  const missing = names.filter((n) => !found.some((r) => r.name === n));
  if (missing.length > 0)
    throw new ApiError("validation_failed", "Validation failed", {
      [field]: missing.map((n) => `unknown role "${n}"`),
    });
  return found.map((r) => r.id);
}

/** Creates a custom role and its audit event in one batch. */
export async function createRole(
  db: Database,
  input: RoleCreateInput,
  audit: Omit<AuditEntry, "resourceId">,
): Promise<RoleRow> {
  const now = Date.now();
  const id = crypto.randomUUID();
  try {
    await db.batch([
      db.insert(roles).values({
        id,
        name: input.name,
        description: input.description ?? null,
        permissions: JSON.stringify(input.permissions),
        isSystem: false,
        insertedAt: now,
        updatedAt: now,
      }),
      auditStatement(
        db,
        { ...audit, resourceId: id, details: { name: input.name, permissions: input.permissions } },
        now,
      ),
    ]);
  } catch (err) {
    if (isUniqueViolation(err)) throw taken(input.name);
    throw err;
  }
  return getRole(db, id);
}

function immutable(row: RoleRow): ApiError {
  return new ApiError("conflict", `"${row.name}" is a system role and cannot be changed or deleted`);
}

/** Changes a custom role (409 for a system role) with its audit event. */
export async function updateRole(
  db: Database,
  row: RoleRow,
  input: RoleUpdateInput,
  audit: AuditEntry,
): Promise<RoleRow> {
  if (row.isSystem) throw immutable(row);
  const now = Date.now();
  const set = {
    ...(input.name !== undefined ? { name: input.name } : {}),
    ...(input.description !== undefined ? { description: input.description } : {}),
    ...(input.permissions !== undefined ? { permissions: JSON.stringify(input.permissions) } : {}),
    updatedAt: now,
  };
  try {
    await db.batch([
      db.update(roles).set(set).where(eq(roles.id, row.id)),
      auditStatement(db, { ...audit, details: { ...input } }, now),
    ]);
  } catch (err) {
    if (isUniqueViolation(err)) throw taken(input.name ?? row.name);
    throw err;
  }
  return getRole(db, row.id);
}

/** Deletes a custom role that no user holds (409 for a system role or a role in use). */
export async function deleteRole(db: Database, row: RoleRow, audit: AuditEntry): Promise<void> {
  if (row.isSystem) throw immutable(row);
  if (row.userCount > 0) throw inUse(row);
  // Conditional: a user given the role concurrently keeps it, and the delete answers 409.
  const [, deleted] = await db.batch([
    auditStatement(db, { ...audit, details: { name: row.name } }),
    db
      .delete(roles)
      .where(
        sql`${roles.id} = ${row.id} AND NOT EXISTS (SELECT 1 FROM ${userRoles} WHERE ${userRoles.roleId} = ${row.id})`,
      ),
  ]);
  if (deleted.rowsAffected === 0) throw inUse(row);
}

function inUse(row: RoleRow): ApiError {
  return new ApiError("conflict", `Role "${row.name}" is held by users; take it from them first`);
}
