import { beforeAll, describe, expect, it } from "vitest";
import { as, userSession } from "./access-fixture";
import { createTestApi, type TestApi } from "./harness";

let api: TestApi;
const key = () => as(api, undefined);
beforeAll(async () => {
  api = await createTestApi();
});

async function mint(client: ReturnType<typeof as>, body: Record<string, unknown>) {
  const res = await client.post("/api/v1/api_tokens", body);
  if (res.status !== 201) throw new Error(`${res.status} ${JSON.stringify(res.body)}`);
  return res.body.data as { id: string; token: string; [k: string]: unknown };
}

describe("POST /api/v1/api_tokens", () => {
  it("answers the otp_ secret once; the token then authenticates with its scopes only", async () => {
    const created = await mint(key(), { name: "ci", scopes: ["nodes:read", "audit:read"] });
    expect(created.token).toMatch(/^otp_[A-Za-z0-9_-]{43}$/);
    expect(created).toMatchObject({
      name: "ci",
      scopes: ["nodes:read", "audit:read"],
      cluster_names: null,
      revoked: false,
      created_by: { type: "api_key", name: "API_KEY" },
    });
    expect(created.token.startsWith(created.prefix as string)).toBe(true);
    const ci = as(api, created.token);
    const me = await ci.get("/api/v1/auth/me");
    expect(me.body.data).toMatchObject({
      type: "api_token",
      name: "ci",
      permissions: ["nodes:read", "audit:read"],
    });
    expect((await ci.get("/api/v1/audit_events")).status).toBe(200);
    expect((await ci.get("/api/v1/users")).status).toBe(403);
    const listed = await key().get(`/api/v1/api_tokens/${created.id}`);
    expect(listed.body.data).not.toHaveProperty("token");
    expect(JSON.stringify(listed.body)).not.toContain(created.token);
  });

  it("refuses scopes the creator does not hold (403) and unknown permissions (422)", async () => {
    const { client } = await userSession(api, "tok-op", ["operator"]);
    const ok = await client.post("/api/v1/api_tokens", {
      name: "deploy",
      scopes: ["commands:execute", "nodes:*"],
    });
    expect(ok.status).toBe(201);
    expect(ok.body.data.created_by).toMatchObject({ type: "user", name: "tok-op" });
    const over = await client.post("/api/v1/api_tokens", {
      name: "grab",
      scopes: ["users:write", "nodes:read"],
    });
    expect(over.status).toBe(403);
    expect(over.body.error.details.scopes).toEqual(['"users:write" is not among your permissions']);
    expect((await client.post("/api/v1/api_tokens", { name: "all", scopes: ["*"] })).status).toBe(403);
    const typo = await client.post("/api/v1/api_tokens", { name: "t", scopes: ["node:read"] });
    expect(typo.status).toBe(422);
    // A token cannot mint a wider token either.
    const narrow = as(api, ok.body.data.token);
    expect(
      (await narrow.post("/api/v1/api_tokens", { name: "wider", scopes: ["webhooks:read"] })).status,
    ).toBe(403);
  });

  it.each([
    [{ scopes: ["nodes:read"] }, "name"],
    [{ name: "x", scopes: [] }, "scopes"],
    [{ name: "x", scopes: ["nodes:read"], expires_at: "2001-01-01T00:00:00Z" }, "expires_at"],
    [{ name: "x", scopes: ["nodes:read"], cluster_names: ["Not Valid"] }, "cluster_names.0"],
    [{ name: "x", scopes: ["nodes:read"], cluster_names: ["no-such-cluster"] }, "cluster_names"],
  ])("rejects %j with 422 naming %s", async (body, field) => {
    const res = await key().post("/api/v1/api_tokens", body);
    expect(res.status).toBe(422);
    expect(Object.keys(res.body.error.details)).toContain(field);
  });

  it("stops working after expires_at", async () => {
    const soon = new Date(Date.now() + 1500).toISOString();
    const t = await mint(key(), { name: "brief", scopes: ["nodes:read"], expires_at: soon });
    expect((await as(api, t.token).get("/api/v1/auth/me")).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1700));
    expect((await as(api, t.token).get("/api/v1/auth/me")).status).toBe(401);
  });
});

describe("list, get, revoke, rotate", () => {
  it("lists only the caller's own tokens unless it holds api_tokens:admin; others' are 404", async () => {
    const a = await userSession(api, "tok-a", ["operator"]);
    const b = await userSession(api, "tok-b", ["operator"]);
    const mine = await mint(a.client, { name: "a-token", scopes: ["nodes:read"] });
    await mint(b.client, { name: "b-token", scopes: ["nodes:read"] });
    const names = (await a.client.get("/api/v1/api_tokens")).body.data.map((t: any) => t.name);
    expect(names).toEqual(["a-token"]);
    expect((await b.client.get(`/api/v1/api_tokens/${mine.id}`)).status).toBe(404);
    expect((await b.client.del(`/api/v1/api_tokens/${mine.id}`)).status).toBe(404);
    const all = (await key().get("/api/v1/api_tokens?name=*-token")).body.data.map((t: any) => t.name);
    expect(all.sort()).toEqual(["a-token", "b-token"]);
  });

  it("filters by name, revoked and time ranges", async () => {
    const live = await mint(key(), {
      name: "flt-live",
      scopes: ["nodes:read"],
      expires_at: "2099-01-01T00:00:00Z",
    });
    const dead = await mint(key(), { name: "flt-dead", scopes: ["nodes:read"] });
    await key().del(`/api/v1/api_tokens/${dead.id}`);
    await as(api, live.token).get("/api/v1/auth/me");
    const names = async (q: string) =>
      (await key().get(`/api/v1/api_tokens?${q}`)).body.data.map((t: any) => t.name).sort();
    expect(await names("name=flt-*")).toEqual(["flt-dead", "flt-live"]);
    expect(await names("name=flt-*&revoked=true")).toEqual(["flt-dead"]);
    expect(await names("name=flt-*&revoked=false")).toEqual(["flt-live"]);
    expect(await names("name=flt-*&expires_at__gte=2098-01-01")).toEqual(["flt-live"]);
    expect(await names("name=flt-*&expires_at__lte=2098-01-01")).toEqual([]);
    expect(await names("name=flt-*&last_used_at__gte=2020-01-01")).toEqual(["flt-live"]);
    expect(await names("name=flt-*&last_used_at__lte=2020-01-01")).toEqual([]);
    expect(await names("name=flt-*&inserted_at__gte=2020-01-01")).toEqual(["flt-dead", "flt-live"]);
  });

  it("revoke stops the token at once and keeps it listed as revoked", async () => {
    const t = await mint(key(), { name: "revokee", scopes: ["nodes:read"] });
    expect((await key().del(`/api/v1/api_tokens/${t.id}`)).status).toBe(204);
    expect((await as(api, t.token).get("/api/v1/auth/me")).status).toBe(401);
    const row = await key().get(`/api/v1/api_tokens/${t.id}`);
    expect(row.body.data.revoked).toBe(true);
    expect(row.body.data.revoked_at).not.toBeNull();
    expect((await key().patch(`/api/v1/api_tokens/${t.id}/rotate`)).status).toBe(409);
  });

  it("rotate answers a new secret; the old one stops working", async () => {
    const t = await mint(key(), { name: "rotor", scopes: ["nodes:read"] });
    const rotated = await key().patch(`/api/v1/api_tokens/${t.id}/rotate`);
    expect(rotated.status).toBe(200);
    expect(rotated.body.data.token).toMatch(/^otp_/);
    expect(rotated.body.data.token).not.toBe(t.token);
    expect((await as(api, t.token).get("/api/v1/auth/me")).status).toBe(401);
    expect((await as(api, rotated.body.data.token).get("/api/v1/auth/me")).status).toBe(200);
  });

  it("writes last_used_at at most once a minute", async () => {
    const t = await mint(key(), { name: "busy", scopes: ["nodes:read"] });
    await as(api, t.token).get("/api/v1/auth/me");
    const first = (await key().get(`/api/v1/api_tokens/${t.id}`)).body.data.last_used_at;
    expect(first).not.toBeNull();
    await new Promise((r) => setTimeout(r, 1100));
    await as(api, t.token).get("/api/v1/auth/me");
    expect((await key().get(`/api/v1/api_tokens/${t.id}`)).body.data.last_used_at).toBe(first);
  });

  it("a disabled user's tokens stop working", async () => {
    const u = await userSession(api, "tok-leaver", ["operator"]);
    const t = await mint(u.client, { name: "orphan", scopes: ["nodes:read"] });
    await key().del(`/api/v1/users/${u.id}`);
    expect((await as(api, t.token).get("/api/v1/auth/me")).status).toBe(401);
  });
});
