import { beforeAll, describe, expect, it } from "vitest";
import { as, createUser, login, PASSWORD, userSession } from "./access-fixture";
import { createTestApi, type TestApi } from "./harness";

let api: TestApi;
beforeAll(async () => {
  api = await createTestApi();
});

describe("POST /api/v1/auth/login", () => {
  it("returns an opaque session token valid 24 h, usable as Bearer and as X-API-Token", async () => {
    await createUser(api, "alice", ["viewer"]);
    const res = await as(api, null).post("/api/v1/auth/login", { username: "alice", password: PASSWORD });
    expect(res.status).toBe(200);
    expect(res.body.data.token).toMatch(/^ots_[A-Za-z0-9_-]{40,}$/);
    const ttl = Date.parse(res.body.data.expires_at) - Date.now();
    expect(ttl).toBeGreaterThan(23.9 * 3600_000);
    expect(ttl).toBeLessThanOrEqual(24 * 3600_000);
    expect(res.body.data.user).toMatchObject({
      username: "alice",
      roles: ["viewer"],
      permissions: ["*:read"],
    });
    expect(res.body.data.user.last_login_at).not.toBeNull();
    expect(res.body.data.user).not.toHaveProperty("password_hash");

    const me = await as(api, res.body.data.token).get("/api/v1/auth/me");
    expect(me.status).toBe(200);
    expect(me.body.data).toMatchObject({ type: "user", name: "alice", user: { username: "alice" } });
    const alias = await as(api, null, { "x-api-token": res.body.data.token }).get("/api/v1/auth/me");
    expect(alias.body.data.name).toBe("alice");
  });

  it("keeps a remember_me session 30 days", async () => {
    await createUser(api, "remy", ["viewer"]);
    const res = await as(api, null).post("/api/v1/auth/login", {
      username: "remy",
      password: PASSWORD,
      remember_me: true,
    });
    expect(Date.parse(res.body.data.expires_at) - Date.now()).toBeGreaterThan(29.9 * 86_400_000);
  });

  it("answers an unknown user, a wrong password and a disabled user alike", async () => {
    const id = await createUser(api, "bob", ["viewer"]);
    const unknown = await as(api, null).post("/api/v1/auth/login", {
      username: "nobody",
      password: PASSWORD,
    });
    const wrong = await as(api, null).post("/api/v1/auth/login", {
      username: "bob",
      password: "wrong-password!",
    });
    await as(api, undefined).del(`/api/v1/users/${id}`);
    const disabled = await as(api, null).post("/api/v1/auth/login", { username: "bob", password: PASSWORD });
    for (const res of [unknown, wrong, disabled]) {
      expect(res.status).toBe(401);
      expect(res.body.error).toEqual({
        code: "unauthorized",
        message: "Invalid username or password",
        details: null,
      });
    }
  });

  it("rejects malformed bodies with 422 naming the field", async () => {
    for (const [body, field] of [
      [{ password: PASSWORD }, "username"],
      [{ username: "x", password: 5 }, "password"],
      [{ username: "x", password: "y", remember_me: "yes" }, "remember_me"],
      [{ username: "x", password: "y", extra: 1 }, "extra"],
    ] as const) {
      const res = await as(api, null).post("/api/v1/auth/login", body);
      expect(res.status).toBe(422);
      expect(Object.keys(res.body.error.details)).toContain(field);
    }
  });
});

describe("lockout", () => {
  it("locks a username after 5 failures in 15 minutes (429 with Retry-After), even with the right password; unlock lifts it", async () => {
    const id = await createUser(api, "carol", ["viewer"]);
    for (let i = 0; i < 5; i++) {
      const res = await as(api, null).post("/api/v1/auth/login", {
        username: "carol",
        password: "not-the-password",
      });
      expect(res.status).toBe(401);
    }
    const locked = await as(api, null).post("/api/v1/auth/login", { username: "carol", password: PASSWORD });
    expect(locked.status).toBe(429);
    expect(locked.body.error.code).toBe("rate_limited");
    expect(Number(locked.headers.get("retry-after"))).toBeGreaterThan(800);
    const user = await as(api, undefined).get(`/api/v1/users/${id}`);
    expect(user.body.data.locked_until).not.toBeNull();

    const unlocked = await as(api, undefined).patch(`/api/v1/users/${id}/unlock`);
    expect(unlocked.status).toBe(200);
    expect(unlocked.body.data.locked_until).toBeNull();
    expect(await login(api, "carol")).toMatch(/^ots_/);
  });

  it("locks an IP address after 5 failures across usernames", async () => {
    await createUser(api, "dave", ["viewer"]);
    const from = (ip: string) => as(api, null, { "cf-connecting-ip": ip });
    for (let i = 0; i < 5; i++) {
      const res = await from("203.0.113.7").post("/api/v1/auth/login", {
        username: `ghost${i}`,
        password: "x",
      });
      expect(res.status).toBe(401);
    }
    const locked = await from("203.0.113.7").post("/api/v1/auth/login", {
      username: "dave",
      password: PASSWORD,
    });
    expect(locked.status).toBe(429);
    const elsewhere = await from("203.0.113.8").post("/api/v1/auth/login", {
      username: "dave",
      password: PASSWORD,
    });
    expect(elsewhere.status).toBe(200);
  });
});

describe("logout, me and password", () => {
  it("logout ends only the calling session", async () => {
    const { token } = await userSession(api, "erin", ["viewer"]);
    const other = await login(api, "erin");
    expect((await as(api, token).post("/api/v1/auth/logout")).status).toBe(204);
    expect((await as(api, token).get("/api/v1/auth/me")).status).toBe(401);
    expect((await as(api, other).get("/api/v1/auth/me")).status).toBe(200);
  });

  it("PATCH /auth/me changes the caller's email; an API key has no profile (403)", async () => {
    const { client } = await userSession(api, "frank", ["viewer"]);
    const res = await client.patch("/api/v1/auth/me", { email: "frank@example.com" });
    expect(res.status).toBe(200);
    expect(res.body.data.user.email).toBe("frank@example.com");
    expect((await client.patch("/api/v1/auth/me", { email: "nope" })).status).toBe(422);
    const key = await as(api, undefined).patch("/api/v1/auth/me", { email: "k@example.com" });
    expect(key.status).toBe(403);
    const keyMe = await as(api, undefined).get("/api/v1/auth/me");
    expect(keyMe.body.data).toMatchObject({
      type: "api_key",
      name: "API_KEY",
      permissions: ["*"],
      user: null,
    });
  });

  it("a password change needs the current password, keeps this session and ends the others", async () => {
    const { token, client } = await userSession(api, "grace", ["viewer"]);
    const other = await login(api, "grace");
    const wrong = await client.put("/api/v1/auth/me/password", {
      current_password: "wrong-password",
      new_password: "a-brand-new-password",
    });
    expect(wrong.status).toBe(422);
    expect(wrong.body.error.details.current_password).toEqual(["is incorrect"]);
    const short = await client.put("/api/v1/auth/me/password", {
      current_password: PASSWORD,
      new_password: "short",
    });
    expect(short.status).toBe(422);
    expect(short.body.error.details.new_password[0]).toContain("12");
    const ok = await client.put("/api/v1/auth/me/password", {
      current_password: PASSWORD,
      new_password: "a-brand-new-password",
    });
    expect(ok.status).toBe(204);
    expect((await as(api, token).get("/api/v1/auth/me")).status).toBe(200);
    expect((await as(api, other).get("/api/v1/auth/me")).status).toBe(401);
    expect(await login(api, "grace", "a-brand-new-password")).toMatch(/^ots_/);
  });

  it("refuses unknown, malformed and revoked credentials with 401", async () => {
    for (const token of ["ots_nope", "otp_nope", "wrong-key", `ots_${"a".repeat(43)}`]) {
      const res = await as(api, token).get("/api/v1/auth/me");
      expect(res.status, token).toBe(401);
      expect(res.body.error.code).toBe("unauthorized");
    }
  });
});
