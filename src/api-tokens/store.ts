import { and, count, eq, gt, isNull, lt, or, type SQL } from "drizzle-orm";
import type { Principal } from "../access/principal";
import type { Database } from "../db/client";
import { apiTokens, users } from "../db/schema";
import { ApiError } from "../errors";
import type { ListQuery } from "../list-query/engine";
import { listPage, type Page } from "../list-query/page";

export type ApiTokenRow = typeof apiTokens.$inferSelect;

function parseList(text: string | null): string[] | null {
  return text === null ? null : (JSON.parse(text) as string[]);
}

/**
 * The principal of a live API token (not revoked, not expired, its creating user not disabled); null
 * otherwise. One query.
 */
export async function findTokenPrincipal(
  db: Database,
  tokenHash: string,
  now: number,
): Promise<{ principal: Principal; lastUsedAt: number | null; expiresAt: number | null } | null> {
  const [row] = await db
    .select({ token: apiTokens, creatorDisabled: users.disabled })
    .from(apiTokens)
    .leftJoin(users, eq(users.id, apiTokens.createdById))
    .where(
      and(
        eq(apiTokens.tokenHash, tokenHash),
        isNull(apiTokens.revokedAt),
        or(isNull(apiTokens.expiresAt), gt(apiTokens.expiresAt, now)),
      ),
    )
    .limit(1);
  if (!row || row.creatorDisabled) return null;
  const { token } = row;
  return {
    lastUsedAt: token.lastUsedAt,
    expiresAt: token.expiresAt,
    principal: {
      type: "api_token",
      id: token.id,
      name: token.name,
      permissions: parseList(token.scopes) ?? [],
      clusterScope: parseList(token.clusterNames),
      userId: token.createdByType === "user" ? token.createdById : null,
      sessionId: null,
    },
  };
}

/** Records use of a token at most once a minute (conditional, so concurrent requests write once). */
export function touchApiToken(db: Database, id: string, ip: string | null, now: number) {
  return db
    .update(apiTokens)
    .set({ lastUsedAt: now, lastUsedIp: ip })
    .where(
      and(eq(apiTokens.id, id), or(isNull(apiTokens.lastUsedAt), lt(apiTokens.lastUsedAt, now - 60_000))),
    );
}

/** Who may see a token: its creator, or everyone when `all` (the `api_tokens:admin` permission). */
export function tokenVisibility(principal: Principal, all: boolean): SQL | undefined {
  if (all) return undefined;
  const creator = creatorOf(principal);
  return and(eq(apiTokens.createdByType, creator.type), eq(apiTokens.createdById, creator.id));
}

/** The creator columns of a token made by `principal` (a token a token makes belongs to the same creator). */
export function creatorOf(principal: Principal): { type: string; id: string; name: string } {
  if (principal.type === "user") return { type: "user", id: principal.id, name: principal.name };
  if (principal.type === "api_key") return { type: "api_key", id: principal.id, name: principal.name };
  return principal.userId
    ? { type: "user", id: principal.userId, name: principal.name }
    : { type: "api_key", id: "api_key", name: principal.name };
}

/** One page of tokens visible to the caller. */
export function listApiTokens(
  db: Database,
  q: ListQuery,
  visible: SQL | undefined,
): Promise<Page<ApiTokenRow>> {
  const where = q.where && visible ? and(q.where, visible) : (q.where ?? visible);
  return listPage(db, q, db.select().from(apiTokens), db.select({ total: count() }).from(apiTokens), where);
}

/** A token visible to the caller, or 404 (another principal's token does not exist for you). */
export async function getApiToken(db: Database, id: string, visible: SQL | undefined): Promise<ApiTokenRow> {
  const [row] = await db
    .select()
    .from(apiTokens)
    .where(visible ? and(eq(apiTokens.id, id), visible) : eq(apiTokens.id, id))
    .limit(1);
  if (!row) throw new ApiError("not_found", "API token not found");
  return row;
}
