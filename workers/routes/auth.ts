import type { Hono } from "hono";
import type { Principal } from "../../src/access/principal";
import { auditStatement } from "../../src/audit/record";
import { LoginLockedError, login } from "../../src/auth/login";
import { MeResponseSchema, presentPrincipal } from "../../src/auth/schema";
import { ApiError } from "../../src/errors";
import { deleteSession } from "../../src/sessions/store";
import { verifyPassword } from "../../src/ssh/password";
import { isoSeconds } from "../../src/time";
import { presentUser } from "../../src/users/present";
import {
  ChangePasswordRequest,
  LoginRequest,
  LoginResponseSchema,
  MeUpdateRequest,
} from "../../src/users/schema";
import { getUser, setUserPassword, updateUser } from "../../src/users/store";
import { auditActor } from "../audit/actor";
import { ownAuditEntry } from "../audit/request-audit";
import { principalOf } from "../middleware/authorize";
import type { AppContext, AppEnv } from "../middleware/request-context";
import { defineRoute } from "../openapi/define-route";

const TAG = "Access.Auth";

function sessionUser(principal: Principal): string {
  if (principal.type !== "user")
    throw new ApiError("forbidden", "Only a user session has a profile and a password");
  return principal.id;
}

async function me(c: AppContext) {
  const principal = principalOf(c);
  const user = principal.type === "user" ? presentUser(await getUser(c.get("db"), principal.id)) : null;
  return { ...presentPrincipal(principal), user };
}

/** Registers `/api/v1/auth/*`: login, logout and the caller's own profile and password. */
export function registerAuthRoutes(app: Hono<AppEnv>): void {
  defineRoute(
    app,
    {
      method: "post",
      path: "/api/v1/auth/login",
      tag: TAG,
      summary: "Log in",
      description:
        "Returns an opaque session token (24 h; 30 days with `remember_me`) to send as `Authorization: Bearer`. An unknown user, a wrong password and a disabled user get the same 401. After 5 failures in 15 minutes for a username or an IP address, logins for it are refused for 15 minutes (429 `rate_limited`, `Retry-After`).",
      public: true,
      body: LoginRequest,
      success: { status: 200, description: "Logged in", data: LoginResponseSchema },
      errors: [401, 429, 503],
    },
    async (c, { body }) => {
      // login() writes auth.login / auth.login_failed in its own batches.
      c.set("audited", true);
      try {
        const result = await login(
          c.get("db"),
          { username: body.username, password: body.password, rememberMe: body.remember_me ?? false },
          auditActor(c),
        );
        return {
          data: {
            token: result.token,
            expires_at: isoSeconds(result.expiresAt),
            user: presentUser(result.user),
          },
        };
      } catch (err) {
        if (err instanceof LoginLockedError) c.header("retry-after", String(err.retryAfterSeconds));
        throw err;
      }
    },
  );

  defineRoute(
    app,
    {
      method: "post",
      path: "/api/v1/auth/logout",
      tag: TAG,
      summary: "Log out",
      description:
        "Ends the calling session. For an API key or API token there is no session: nothing happens.",
      permission: "authenticated",
      audit: false,
      success: { status: 204, description: "Logged out", data: null },
    },
    async (c) => {
      const principal = principalOf(c);
      if (!principal.sessionId) return;
      const db = c.get("db");
      const audit = ownAuditEntry(c, "auth.logout", {
        type: "session",
        id: principal.sessionId,
        status: 204,
      });
      await db.batch([deleteSession(db, principal.sessionId), auditStatement(db, audit)]);
    },
  );

  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/auth/me",
      tag: TAG,
      summary: "Who am I",
      description:
        "The calling principal (API key, user session or API token), its permissions and cluster scope, and its user for a session.",
      permission: "authenticated",
      success: { status: 200, description: "The caller", data: MeResponseSchema },
    },
    async (c) => ({ data: await me(c) }),
  );

  defineRoute(
    app,
    {
      method: "patch",
      path: "/api/v1/auth/me",
      tag: TAG,
      summary: "Update my email",
      permission: "authenticated",
      audit: false,
      body: MeUpdateRequest,
      success: { status: 200, description: "The caller", data: MeResponseSchema },
      errors: [403, 422, 503],
    },
    async (c, { body }) => {
      const db = c.get("db");
      const user = await getUser(db, sessionUser(principalOf(c)));
      const audit = ownAuditEntry(c, "user.updated", { type: "user", id: user.id, status: 200 });
      await updateUser(db, user, { email: body.email }, audit);
      return { data: await me(c) };
    },
  );

  defineRoute(
    app,
    {
      method: "put",
      path: "/api/v1/auth/me/password",
      tag: TAG,
      summary: "Change my password",
      description:
        "Needs the current password (422 when wrong). Ends every other session of the user; this one stays.",
      permission: "authenticated",
      audit: false,
      body: ChangePasswordRequest,
      success: { status: 204, description: "Password changed", data: null },
      errors: [403, 422, 503],
    },
    async (c, { body }) => {
      const db = c.get("db");
      const principal = principalOf(c);
      const user = await getUser(db, sessionUser(principal));
      if (!verifyPassword(body.current_password, user.passwordHash))
        throw new ApiError("validation_failed", "Validation failed", { current_password: ["is incorrect"] });
      const audit = ownAuditEntry(c, "user.password_changed", { type: "user", id: user.id, status: 204 });
      await setUserPassword(db, user, body.new_password, principal.sessionId, audit);
    },
  );
}
