import { and, count, eq, getTableColumns, sql } from "drizzle-orm";
import { ADMIN_ROLE_ID } from "../access/permissions";
import { type AuditEntry, auditStatement } from "../audit/record";
import type { Database } from "../db/client";
import { isUniqueViolation } from "../db/errors";
import { loginThrottle, userRoles, users } from "../db/schema";
import { ApiError } from "../errors";
import type { ListQuery } from "../list-query/engine";
import { listPage, type Page } from "../list-query/page";
import { deleteUserSessions } from "../sessions/store";
import { hashPassword } from "../ssh/password";
import { parseRolePermissions, roleNamesSql, rolePermissionsSql } from "./permissions";
import type { UserCreateInput } from "./schema";
import { throttleKey } from "./throttle";

/** A user row with its role names, effective permissions and current login lock. */
export type UserRow = typeof users.$inferSelect & {
  roleNames: string[];
  permissions: string[];
  lockedUntil: number | null;
};

function selectUsers(db: Database) {
  return db
    .select({
      ...getTableColumns(users),
      roleNames: roleNamesSql(sql`${users.id}`),
      permissions: rolePermissionsSql(sql`${users.id}`),
      lockedUntil: sql<
        number | null
      >`(SELECT ${loginThrottle.lockedUntil} FROM ${loginThrottle} WHERE ${loginThrottle.key} = 'user:' || lower(${users.username}))`,
    })
    .from(users);
}

type Selected = Awaited<ReturnType<ReturnType<typeof selectUsers>["where"]>>[number];

function toRow(r: Selected): UserRow {
  return {
    ...r,
    roleNames: JSON.parse(r.roleNames) as string[],
    permissions: parseRolePermissions(r.permissions),
    lockedUntil: r.lockedUntil !== null && r.lockedUntil > Date.now() ? r.lockedUntil : null,
  };
}

/** One page of users. */
export async function listUsers(db: Database, q: ListQuery): Promise<Page<UserRow>> {
  const page = await listPage(db, q, selectUsers(db), db.select({ total: count() }).from(users));
  return { rows: page.rows.map(toRow), pagination: page.pagination };
}

/** A user by id, or 404. */
export async function getUser(db: Database, id: string): Promise<UserRow> {
  const [row] = await selectUsers(db).where(eq(users.id, id)).limit(1);
  if (!row) throw new ApiError("not_found", "User not found");
  return toRow(row);
}

/** A user by exact username (login), or null. */
export async function findUserByUsername(db: Database, username: string): Promise<UserRow | null> {
  const [row] = await selectUsers(db).where(eq(users.username, username)).limit(1);
  return row ? toRow(row) : null;
}

/** Creates a user with its roles and audit event in one batch (the password hashed with Argon2id). */
export async function createUser(
  db: Database,
  input: UserCreateInput,
  roleIds: readonly string[],
  audit: Omit<AuditEntry, "resourceId">,
): Promise<UserRow> {
  const now = Date.now();
  const id = crypto.randomUUID();
  try {
    await db.batch([
      db.insert(users).values({
        id,
        username: input.username,
        email: input.email ?? null,
        passwordHash: hashPassword(input.password),
        insertedAt: now,
        updatedAt: now,
      }),
      ...roleIds.map((roleId) => db.insert(userRoles).values({ userId: id, roleId })),
      auditStatement(
        db,
        { ...audit, resourceId: id, details: { username: input.username, roles: input.roles } },
        now,
      ),
    ]);
  } catch (err) {
    if (isUniqueViolation(err))
      throw new ApiError("conflict", `User "${input.username}" already exists`, {
        username: ["has already been taken"],
      });
    throw err;
  }
  return getUser(db, id);
}

/**
 * Whether `user` is the last enabled holder of the admin role: disabling it or taking the role
 * away would leave nobody able to manage users, so both are refused (409).
 */
export async function isLastEnabledAdmin(db: Database, user: UserRow): Promise<boolean> {
  if (user.disabled || !user.roleNames.includes("admin")) return false;
  const [others] = await db
    .select({ n: count() })
    .from(userRoles)
    .innerJoin(users, eq(users.id, userRoles.userId))
    .where(
      and(eq(userRoles.roleId, ADMIN_ROLE_ID), eq(users.disabled, false), sql`${users.id} != ${user.id}`),
    );
  return (others?.n ?? 0) === 0;
}

function lastAdmin(): ApiError {
  return new ApiError("conflict", "This is the last enabled admin; make another user admin first");
}

/** Changes email and/or roles, with the audit event, in one batch. */
export async function updateUser(
  db: Database,
  user: UserRow,
  change: { email?: string | null; roleIds?: readonly string[]; roleNames?: readonly string[] },
  audit: AuditEntry,
): Promise<UserRow> {
  if (change.roleIds && !change.roleIds.includes(ADMIN_ROLE_ID) && (await isLastEnabledAdmin(db, user)))
    throw lastAdmin();
  const now = Date.now();
  const statements = [
    db
      .update(users)
      .set({ ...(change.email !== undefined ? { email: change.email } : {}), updatedAt: now })
      .where(eq(users.id, user.id)),
    ...(change.roleIds
      ? [
          db.delete(userRoles).where(eq(userRoles.userId, user.id)),
          ...change.roleIds.map((roleId) => db.insert(userRoles).values({ userId: user.id, roleId })),
        ]
      : []),
    auditStatement(db, { ...audit, details: { email: change.email, roles: change.roleNames } }, now),
  ];
  await db.batch(statements as [(typeof statements)[number], ...typeof statements]);
  return getUser(db, user.id);
}

/** Disables a user and ends its sessions (its API tokens stop working too), with the audit event. */
export async function disableUser(db: Database, user: UserRow, audit: AuditEntry): Promise<UserRow> {
  if (await isLastEnabledAdmin(db, user)) throw lastAdmin();
  const now = Date.now();
  await db.batch([
    db.update(users).set({ disabled: true, updatedAt: now }).where(eq(users.id, user.id)),
    deleteUserSessions(db, user.id),
    auditStatement(db, audit, now),
  ]);
  return getUser(db, user.id);
}

/** Sets a new password and ends the user's other sessions (all of them when `keepSessionId` is null). */
export async function setUserPassword(
  db: Database,
  user: UserRow,
  password: string,
  keepSessionId: string | null,
  audit: AuditEntry,
): Promise<void> {
  const now = Date.now();
  await db.batch([
    db
      .update(users)
      .set({ passwordHash: hashPassword(password), updatedAt: now })
      .where(eq(users.id, user.id)),
    deleteUserSessions(db, user.id, keepSessionId),
    auditStatement(db, audit, now),
  ]);
}

/** Lifts a login lock on the user's name (the per-IP lock stays), with the audit event. */
export async function unlockUser(db: Database, user: UserRow, audit: AuditEntry): Promise<UserRow> {
  await db.batch([
    db.delete(loginThrottle).where(eq(loginThrottle.key, throttleKey("user", user.username))),
    auditStatement(db, audit),
  ]);
  return getUser(db, user.id);
}
