import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { createDatabase } from "../../src/db/client";
import { as, userSession } from "./access-fixture";
import { createTestApi, type TestApi } from "./harness";

// The principal cache (AUTH_CACHE_SECONDS): a change made through the API takes effect at once in
// the isolate that made it; a change this isolate did not see (another isolate's, simulated by
// writing the database directly) takes effect within the TTL; 0 turns the cache off.
async function setUp(seconds: string) {
  const api = await createTestApi({ AUTH_CACHE_SECONDS: seconds });
  const db = createDatabase({ url: api.env.LIBSQL_URL! });
  return { api, db };
}

async function mint(api: TestApi, name: string) {
  const res = await as(api, undefined).post("/api/v1/api_tokens", { name, scopes: ["nodes:read"] });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return { id: res.body.data.id as string, client: as(api, res.body.data.token) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("AUTH_CACHE_SECONDS", () => {
  it("a revocation through the API takes effect at once", async () => {
    const { api } = await setUp("5");
    const t = await mint(api, "api-revoked");
    expect((await t.client.get("/api/v1/nodes")).status).toBe(200);
    expect((await as(api, undefined).del(`/api/v1/api_tokens/${t.id}`)).status).toBe(204);
    expect((await t.client.get("/api/v1/nodes")).status).toBe(401);
  });

  it("a revocation this isolate did not make takes effect within the TTL", async () => {
    const { api, db } = await setUp("1");
    const t = await mint(api, "db-revoked");
    expect((await t.client.get("/api/v1/nodes")).status).toBe(200);
    await db.run(sql`UPDATE api_tokens SET revoked_at = ${Date.now()} WHERE id = ${t.id}`);
    // Still cached here: the bounded staleness the setting allows.
    expect((await t.client.get("/api/v1/nodes")).status).toBe(200);
    await sleep(1100);
    expect((await t.client.get("/api/v1/nodes")).status).toBe(401);
  });

  it("a role change this isolate did not make takes effect within the TTL", async () => {
    const { api, db } = await setUp("1");
    const u = await userSession(api, "cached-viewer", ["viewer"]);
    expect((await u.client.get("/api/v1/nodes")).status).toBe(200);
    await db.run(sql`DELETE FROM user_roles WHERE user_id = ${u.id}`);
    await sleep(1100);
    expect((await u.client.get("/api/v1/nodes")).status).toBe(403);
  });

  it("0 reads the database on every request", async () => {
    const { api, db } = await setUp("0");
    const t = await mint(api, "uncached");
    expect((await t.client.get("/api/v1/nodes")).status).toBe(200);
    await db.run(sql`UPDATE api_tokens SET revoked_at = ${Date.now()} WHERE id = ${t.id}`);
    expect((await t.client.get("/api/v1/nodes")).status).toBe(401);
  });

  it("an expired credential is not served from the cache", async () => {
    const { api, db } = await setUp("60");
    const t = await mint(api, "expiring");
    await db.run(sql`UPDATE api_tokens SET expires_at = ${Date.now() + 300} WHERE id = ${t.id}`);
    await forgetThroughApi(api);
    expect((await t.client.get("/api/v1/nodes")).status).toBe(200);
    await sleep(400);
    expect((await t.client.get("/api/v1/nodes")).status).toBe(401);
  });
});

// Any change under /api/v1/api_tokens makes this isolate forget its cache.
async function forgetThroughApi(api: TestApi) {
  const res = await as(api, undefined).post("/api/v1/api_tokens", { name: "nudge", scopes: ["nodes:read"] });
  expect(res.status).toBe(201);
}
