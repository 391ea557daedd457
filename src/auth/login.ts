import { eq } from "drizzle-orm";
import { newSecret, SESSION_TOKEN_PREFIX, secretHash } from "../access/secrets";
import { type AuditActor, auditStatement } from "../audit/record";
import type { Database } from "../db/client";
import { users } from "../db/schema";
import { ApiError } from "../errors";
import { insertSession, sessionTtlMs } from "../sessions/store";
import { verifyPassword } from "../ssh/password";
import { findUserByUsername, getUser, type UserRow } from "../users/store";
import { clearLoginFailures, lockedUntil, recordLoginFailure, throttleKey } from "../users/throttle";

// Verified when the username is unknown, so an unknown user costs the same Argon2id work as a wrong
// password and the answer's timing does not tell which usernames exist.
const DUMMY_HASH =
  "$argon2id$v=19$m=19456,t=2,p=1$agC4Y3xC5wmrAJLq+TS0Nw$7aYK6MRfEmbBwB/ONrDUuyEBWkrP6bpJ9NA5bWAGi0k";

/** A login lock in force: 429 with the seconds until it lifts (the route sets Retry-After). */
export class LoginLockedError extends ApiError {
  constructor(readonly retryAfterSeconds: number) {
    super("rate_limited", "Too many failed logins; try again later", {
      login: [`locked for ${retryAfterSeconds} more seconds`],
    });
  }
}

/** What a successful login returns. */
export interface LoginResult {
  token: string;
  expiresAt: number;
  user: UserRow;
}

/**
 * Checks a username and password. Unknown user, wrong password and disabled user all answer the same
 * 401; each failure counts against the username and the IP (5 in 15 minutes lock both for 15
 * minutes, 429 before any password check). Success opens a session (24 h, 30 days with
 * `rememberMe`) whose token is returned once and stored only as its SHA-256.
 */
export async function login(
  db: Database,
  input: { username: string; password: string; rememberMe: boolean },
  actor: AuditActor,
): Promise<LoginResult> {
  const now = Date.now();
  const keys = [throttleKey("user", input.username), ...(actor.ip ? [throttleKey("ip", actor.ip)] : [])];
  const until = await lockedUntil(db, keys, now);
  if (until !== null) throw new LoginLockedError(Math.max(1, Math.ceil((until - now) / 1000)));

  const user = await findUserByUsername(db, input.username);
  const passwordOk = verifyPassword(input.password, user?.passwordHash ?? DUMMY_HASH);
  if (!user || !passwordOk || user.disabled) {
    await db.batch([
      recordLoginFailure(db, keys[0], now),
      ...keys.slice(1).map((key) => recordLoginFailure(db, key, now)),
      auditStatement(
        db,
        {
          ...actor,
          actorType: "anonymous",
          actorId: null,
          actorName: input.username,
          event: "auth.login_failed",
          statusCode: 401,
          success: false,
          resourceType: "user",
          resourceId: user?.id ?? null,
          details: { reason: !user ? "unknown_user" : user.disabled ? "disabled" : "wrong_password" },
        },
        now,
      ),
    ]);
    throw new ApiError("unauthorized", "Invalid username or password");
  }

  const token = newSecret(SESSION_TOKEN_PREFIX);
  const expiresAt = now + sessionTtlMs(input.rememberMe);
  const sessionId = crypto.randomUUID();
  await db.batch([
    insertSession(
      db,
      {
        id: sessionId,
        tokenHash: await secretHash(token),
        userId: user.id,
        expiresAt,
        ip: actor.ip,
        userAgent: actor.userAgent,
      },
      now,
    ),
    db.update(users).set({ lastLoginAt: now }).where(eq(users.id, user.id)),
    clearLoginFailures(db, throttleKey("user", input.username)),
    auditStatement(
      db,
      {
        ...actor,
        actorType: "user",
        actorId: user.id,
        actorName: user.username,
        event: "auth.login",
        statusCode: 200,
        success: true,
        resourceType: "session",
        resourceId: sessionId,
        details: { remember_me: input.rememberMe },
      },
      now,
    ),
  ]);
  return { token, expiresAt, user: await getUser(db, user.id) };
}
