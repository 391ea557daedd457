import { and, eq, gt, isNull, lt, or, sql } from "drizzle-orm";
import type { Principal } from "../access/principal";
import type { Database } from "../db/client";
import { sessions, users } from "../db/schema";
import { parseRolePermissions, rolePermissionsSql } from "../users/permissions";

export type SessionRow = typeof sessions.$inferSelect;

/** How long a session lives: 24 h, or 30 days with `remember_me`. */
export function sessionTtlMs(rememberMe: boolean): number {
  return rememberMe ? 30 * 86_400_000 : 86_400_000;
}

/**
 * The principal of a live session (not expired, user not disabled) with its roles' permissions, read
 * in one query; null when the token is unknown, expired or its user disabled.
 */
export async function findSessionPrincipal(
  db: Database,
  tokenHash: string,
  now: number,
): Promise<{ principal: Principal; lastUsedAt: number | null; expiresAt: number | null } | null> {
  const [row] = await db
    .select({
      sessionId: sessions.id,
      expiresAt: sessions.expiresAt,
      lastUsedAt: sessions.lastUsedAt,
      userId: users.id,
      username: users.username,
      permissions: rolePermissionsSql(sql`${users.id}`),
    })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(and(eq(sessions.tokenHash, tokenHash), gt(sessions.expiresAt, now), eq(users.disabled, false)))
    .limit(1);
  if (!row) return null;
  return {
    lastUsedAt: row.lastUsedAt,
    expiresAt: row.expiresAt,
    principal: {
      type: "user",
      id: row.userId,
      name: row.username,
      permissions: parseRolePermissions(row.permissions),
      clusterScope: null,
      userId: row.userId,
      sessionId: row.sessionId,
    },
  };
}

/** The insert of a new session (for the login batch). */
export function insertSession(
  db: Database,
  values: {
    id: string;
    tokenHash: string;
    userId: string;
    expiresAt: number;
    ip: string | null;
    userAgent: string | null;
  },
  now: number,
) {
  return db.insert(sessions).values({ ...values, lastUsedAt: now, insertedAt: now });
}

/** Ends one session. */
export function deleteSession(db: Database, sessionId: string) {
  return db.delete(sessions).where(eq(sessions.id, sessionId));
}

/** Ends every session of a user (password change, disable), optionally keeping one. */
export function deleteUserSessions(db: Database, userId: string, keepSessionId?: string | null) {
  return db
    .delete(sessions)
    .where(
      keepSessionId
        ? and(eq(sessions.userId, userId), sql`${sessions.id} != ${keepSessionId}`)
        : eq(sessions.userId, userId),
    );
}

/** Records use of a session at most once a minute (the condition makes concurrent touches one write). */
export function touchSession(db: Database, sessionId: string, now: number) {
  return db
    .update(sessions)
    .set({ lastUsedAt: now })
    .where(
      and(eq(sessions.id, sessionId), or(isNull(sessions.lastUsedAt), lt(sessions.lastUsedAt, now - 60_000))),
    );
}

/** Deletes expired sessions (cron). */
export function pruneExpiredSessions(db: Database, now: number) {
  return db.delete(sessions).where(lt(sessions.expiresAt, now));
}
