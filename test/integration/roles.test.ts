import { beforeAll, describe, expect, it } from "vitest";
import { as, createUser, userSession } from "./access-fixture";
import { createTestApi, type TestApi } from "./harness";

let api: TestApi;
const key = () => as(api, undefined);
beforeAll(async () => {
  api = await createTestApi();
});

describe("system roles", () => {
  it("lists admin, operator and viewer as system roles", async () => {
    const res = await key().get("/api/v1/roles?is_system=true&order_by=name");
    expect(res.status).toBe(200);
    expect(res.body.data.map((r: any) => [r.name, r.is_system])).toEqual([
      ["admin", true],
      ["operator", true],
      ["viewer", true],
    ]);
    expect(res.body.data[0].permissions).toEqual(["*"]);
    expect(res.body.data[2].permissions).toEqual(["*:read"]);
  });

  it("cannot be changed or deleted (409)", async () => {
    const roles = (await key().get("/api/v1/roles?is_system=true")).body.data;
    for (const role of roles) {
      expect((await key().patch(`/api/v1/roles/${role.id}`, { description: "x" })).status).toBe(409);
      expect((await key().del(`/api/v1/roles/${role.id}`)).status).toBe(409);
    }
  });
});

describe("custom roles", () => {
  it("creates, reads, updates and deletes; a held role cannot be deleted", async () => {
    const created = await key().post("/api/v1/roles", {
      name: "deployer",
      description: "Runs commands",
      permissions: ["commands:*", "nodes:read", "nodes:read"],
    });
    expect(created.status).toBe(201);
    expect(created.body.data).toMatchObject({
      name: "deployer",
      permissions: ["commands:*", "nodes:read"],
      is_system: false,
      user_count: 0,
    });
    const id = created.body.data.id;
    expect((await key().get(`/api/v1/roles/${id}`)).body.data.name).toBe("deployer");
    const updated = await key().patch(`/api/v1/roles/${id}`, { permissions: ["commands:read"] });
    expect(updated.body.data.permissions).toEqual(["commands:read"]);
    expect((await key().post("/api/v1/roles", { name: "deployer", permissions: ["*"] })).status).toBe(409);

    const userId = await createUser(api, "deploy-bot", ["deployer"]);
    expect((await key().get(`/api/v1/roles/${id}`)).body.data.user_count).toBe(1);
    expect((await key().del(`/api/v1/roles/${id}`)).status).toBe(409);
    await key().patch(`/api/v1/users/${userId}`, { roles: [] });
    expect((await key().del(`/api/v1/roles/${id}`)).status).toBe(204);
    expect((await key().get(`/api/v1/roles/${id}`)).status).toBe(404);
  });

  it.each([
    [{ name: "x", permissions: [] }, "permissions"],
    [{ name: "x", permissions: ["nodes"] }, "permissions.0"],
    [{ name: "x", permissions: ["gizmos:read"] }, "permissions.0"],
    [{ name: "x", permissions: ["nodes:explode"] }, "permissions.0"],
    [{ name: "Bad Name", permissions: ["*"] }, "name"],
    [{ permissions: ["*"] }, "name"],
  ])("rejects %j with 422 naming %s", async (body, field) => {
    const res = await key().post("/api/v1/roles", body);
    expect(res.status).toBe(422);
    expect(Object.keys(res.body.error.details)).toContain(field);
  });

  it("filters by name wildcard, permission and time", async () => {
    await key().post("/api/v1/roles", { name: "flt-a", permissions: ["webhooks:*"] });
    await key().post("/api/v1/roles", { name: "flt-b", permissions: ["audit:read"] });
    const names = async (q: string) =>
      (await key().get(`/api/v1/roles?${q}`)).body.data.map((r: any) => r.name);
    expect(await names("name=flt-*&order_by=name")).toEqual(["flt-a", "flt-b"]);
    expect(await names("name=flt-*&permission=audit:read")).toEqual(["flt-b"]);
    expect(
      await names("is_system=false&name=flt-*&inserted_at__gte=2020-01-01&updated_at__lte=2100-01-01"),
    ).toHaveLength(2);
  });

  it("a role change applies to its users' sessions at once", async () => {
    await key().post("/api/v1/roles", { name: "growing", permissions: ["nodes:read"] });
    const { client } = await userSession(api, "grower", ["growing"]);
    expect((await client.get("/api/v1/audit_events")).status).toBe(403);
    const role = (await key().get("/api/v1/roles?name=growing")).body.data[0];
    await key().patch(`/api/v1/roles/${role.id}`, { permissions: ["nodes:read", "audit:read"] });
    expect((await client.get("/api/v1/audit_events")).status).toBe(200);
  });

  it("a viewer reads roles but cannot write them", async () => {
    const { client } = await userSession(api, "role-viewer", ["viewer"]);
    expect((await client.get("/api/v1/roles")).status).toBe(200);
    expect((await client.post("/api/v1/roles", { name: "mine", permissions: ["*"] })).status).toBe(403);
  });
});
