import { beforeAll, describe, expect, it } from "vitest";
import { as, createUser, login, PASSWORD, userSession } from "./access-fixture";
import { createTestApi, type TestApi } from "./harness";

let api: TestApi;
const key = () => as(api, undefined);
beforeAll(async () => {
  api = await createTestApi();
});

describe("POST /api/v1/users", () => {
  it("creates the first user with the API key; the password never leaves", async () => {
    const res = await key().post("/api/v1/users", {
      username: "root-admin",
      password: PASSWORD,
      email: "root@example.com",
      roles: ["admin"],
    });
    expect(res.status).toBe(201);
    expect(res.body.data).toMatchObject({
      username: "root-admin",
      email: "root@example.com",
      roles: ["admin"],
      permissions: ["*"],
      auth_provider: "local",
      disabled: false,
      locked_until: null,
      last_login_at: null,
    });
    expect(JSON.stringify(res.body)).not.toContain(PASSWORD);
    expect(JSON.stringify(res.body)).not.toContain("argon2");
  });

  it.each([
    [{ username: "ab", password: PASSWORD, roles: [] }, "username"],
    [{ username: "has space", password: PASSWORD, roles: [] }, "username"],
    [{ username: "shorty", password: "short", roles: [] }, "password"],
    [{ username: "noroles", password: PASSWORD }, "roles"],
    [{ username: "bademail", password: PASSWORD, roles: [], email: "x" }, "email"],
    [{ username: "badrole", password: PASSWORD, roles: ["wizard"] }, "roles"],
    [{ username: "extra", password: PASSWORD, roles: [], admin: true }, "admin"],
  ])("rejects %j with 422 naming %s", async (body, field) => {
    const res = await key().post("/api/v1/users", body);
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe("validation_failed");
    expect(Object.keys(res.body.error.details)).toContain(field);
  });

  it("rejects a taken username with 409", async () => {
    await createUser(api, "twice", ["viewer"]);
    const res = await key().post("/api/v1/users", { username: "twice", password: PASSWORD, roles: [] });
    expect(res.status).toBe(409);
  });

  it("needs users:write: an operator gets 403", async () => {
    const { client } = await userSession(api, "op-one", ["operator"]);
    const res = await client.post("/api/v1/users", {
      username: "sneaky",
      password: PASSWORD,
      roles: ["admin"],
    });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe("forbidden");
  });
});

describe("GET /api/v1/users filters", () => {
  it("filters by username wildcard, email, role, disabled and time ranges", async () => {
    const a = await createUser(api, "list-ann", ["viewer"]);
    await createUser(api, "list-ben", ["operator"]);
    await key().patch(`/api/v1/users/${a}`, { email: "ann@example.com" });
    await login(api, "list-ben");
    const names = async (q: string) =>
      (await key().get(`/api/v1/users?${q}`)).body.data.map((u: any) => u.username).sort();
    expect(await names("username=list-*")).toEqual(["list-ann", "list-ben"]);
    expect(await names("email=ANN@example.com")).toEqual(["list-ann"]);
    expect(await names("username=list-*&role=operator")).toEqual(["list-ben"]);
    expect(await names("username=list-*&last_login_at__gte=2020-01-01")).toEqual(["list-ben"]);
    expect(await names("username=list-*&inserted_at__lte=2020-01-01")).toEqual([]);
    expect(await names("username=list-*&inserted_at__gte=2020-01-01")).toEqual(["list-ann", "list-ben"]);
    await key().del(`/api/v1/users/${a}`);
    expect(await names("username=list-*&disabled=true")).toEqual(["list-ann"]);
    expect(await names("username=list-*&disabled=false")).toEqual(["list-ben"]);
    const bad = await key().get("/api/v1/users?disabled=maybe&nope=1");
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.body.error.details).sort()).toEqual(["disabled", "nope"]);
  });
});

describe("GET/PATCH/DELETE /api/v1/users/{id}", () => {
  it("reads, changes email and roles, and answers 404 for an unknown id", async () => {
    const id = await createUser(api, "patchy", ["viewer"]);
    expect((await key().get(`/api/v1/users/${id}`)).body.data.username).toBe("patchy");
    const res = await key().patch(`/api/v1/users/${id}`, {
      email: "p@example.com",
      roles: ["operator", "viewer"],
    });
    expect(res.status).toBe(200);
    expect(res.body.data.email).toBe("p@example.com");
    expect(res.body.data.roles.sort()).toEqual(["operator", "viewer"]);
    expect((await key().get("/api/v1/users/3f2504e0-4f89-41d3-9a0c-0305e82c3301")).status).toBe(404);
    expect((await key().get("/api/v1/users/not-a-uuid")).status).toBe(400);
  });

  it("DELETE disables (never deletes), ends sessions and returns the user", async () => {
    const { id, token } = await userSession(api, "leaver", ["viewer"]);
    const res = await key().del(`/api/v1/users/${id}`);
    expect(res.status).toBe(200);
    expect(res.body.data.disabled).toBe(true);
    expect((await as(api, token).get("/api/v1/auth/me")).status).toBe(401);
    expect((await key().get(`/api/v1/users/${id}`)).body.data.disabled).toBe(true);
  });

  it("PUT /users/{id}/password sets a password and ends every session", async () => {
    const { id, token } = await userSession(api, "forgetful", ["viewer"]);
    const res = await key().put(`/api/v1/users/${id}/password`, { new_password: "another-long-password" });
    expect(res.status).toBe(204);
    expect((await as(api, token).get("/api/v1/auth/me")).status).toBe(401);
    expect(await login(api, "forgetful", "another-long-password")).toMatch(/^ots_/);
    expect((await key().put(`/api/v1/users/${id}/password`, { new_password: "short" })).status).toBe(422);
  });
});

describe("last admin", () => {
  it("refuses to disable or demote the last enabled admin (409), and allows it once another admin exists", async () => {
    const fresh = await createTestApi();
    const k = as(fresh, undefined);
    const first = await createUser(fresh, "only-admin", ["admin"]);
    expect((await k.del(`/api/v1/users/${first}`)).status).toBe(409);
    const demote = await k.patch(`/api/v1/users/${first}`, { roles: ["viewer"] });
    expect(demote.status).toBe(409);
    expect(demote.body.error.code).toBe("conflict");
    // An admin session cannot remove itself either.
    const self = as(fresh, await login(fresh, "only-admin"));
    expect((await self.del(`/api/v1/users/${first}`)).status).toBe(409);
    await createUser(fresh, "second-admin", ["admin"]);
    expect((await k.patch(`/api/v1/users/${first}`, { roles: ["viewer"] })).status).toBe(200);
  });
});
