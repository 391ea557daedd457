import { beforeAll, describe, expect, it } from "vitest";
import { createTestApi, type TestApi } from "./harness";

let api: TestApi;
const future = () => new Date(Date.now() + 86_400_000).toISOString();

beforeAll(async () => {
  api = await createTestApi({ DEFAULT_CLUSTER_NAME: "home", PUBLIC_API_URL: "https://outpost.example.com/" });
  await api.post("/api/v1/clusters", { name: "home" });
  await api.post("/api/v1/clusters", { name: "prod-east" });
});

function decode(key: string) {
  return JSON.parse(atob(key));
}

describe("POST /api/v1/clusters/{cluster_name}/enrollment_keys", () => {
  it("defaults to one use, no expiry, no name, and a blob pointing at the public API", async () => {
    const res = await api.post("/api/v1/clusters/prod-east/enrollment_keys", {});
    expect(res.status).toBe(201);
    const key = res.body.data;
    expect(key).toMatchObject({
      cluster_name: "prod-east",
      uses_remaining: 1,
      expired_at: null,
      name: null,
      last_used_at: null,
    });
    const blob = decode(key.key);
    expect(blob.server).toBe("https://outpost.example.com");
    expect(blob.key.length).toBeGreaterThanOrEqual(22); // ≥ 128 bits of base64url
  });

  it("accepts a name, a use count, unlimited uses and a future expiry", async () => {
    const expiry = future();
    const res = await api.post("/api/v1/clusters/prod-east/enrollment_keys", {
      name: "prod rollout",
      uses_remaining: 5,
      expired_at: expiry,
    });
    expect(res.body.data).toMatchObject({
      name: "prod rollout",
      uses_remaining: 5,
      expired_at: expiry.replace(/\.\d+Z$/, "Z"),
    });
    const unlimited = await api.post("/api/v1/clusters/prod-east/enrollment_keys", { uses_remaining: null });
    expect(unlimited.body.data.uses_remaining).toBeNull();
  });

  it.each([
    [{ uses_remaining: 0 }, "uses_remaining"],
    [{ uses_remaining: -1 }, "uses_remaining"],
    [{ uses_remaining: 2.5 }, "uses_remaining"],
    [{ expired_at: "2001-01-01T00:00:00Z" }, "expired_at"],
    [{ expired_at: "tomorrow" }, "expired_at"],
    [{ name: 12 }, "name"],
    [{ name: "x".repeat(256) }, "name"],
    [{ cluster: "other" }, "cluster"],
  ])("rejects %j with 422 on %s", async (body, field) => {
    const res = await api.post("/api/v1/clusters/prod-east/enrollment_keys", body);
    expect(res.status).toBe(422);
    expect(res.body.error.details).toHaveProperty(field);
  });

  it("404s an unknown cluster", async () => {
    expect((await api.post("/api/v1/clusters/ghost/enrollment_keys", {})).status).toBe(404);
  });
});

describe("default cluster routes", () => {
  it("creates keys for DEFAULT_CLUSTER_NAME", async () => {
    const res = await api.post("/api/v1/clusters/default/enrollment_keys", { name: "via default" });
    expect(res.status).toBe(201);
    expect(res.body.data.cluster_name).toBe("home");
  });

  it("is 403 without DEFAULT_CLUSTER_NAME and 404 when that cluster is missing", async () => {
    const unset = await createTestApi({ DEFAULT_CLUSTER_NAME: "" });
    expect((await unset.post("/api/v1/clusters/default/enrollment_keys", {})).status).toBe(403);
    const missing = await createTestApi({ DEFAULT_CLUSTER_NAME: "nowhere" });
    expect((await missing.post("/api/v1/clusters/default/enrollment_keys", {})).status).toBe(404);
  });

  it("serves the public endpoint only when enabled, without auth", async () => {
    const off = await api.fetch("/api/v1/clusters/default/enrollment_keys/public", {
      method: "POST",
      auth: null,
    });
    expect(off.status).toBe(403);
    expect((await off.json<any>()).error.code).toBe("forbidden");

    const on = await createTestApi({ DEFAULT_CLUSTER_NAME: "pub", PUBLIC_ENROLLMENT_KEY_ENABLED: "true" });
    const noCluster = await on.fetch("/api/v1/clusters/default/enrollment_keys/public", {
      method: "POST",
      auth: null,
    });
    expect(noCluster.status).toBe(404);
    await on.post("/api/v1/clusters", { name: "pub" });
    const res = await on.fetch("/api/v1/clusters/default/enrollment_keys/public", {
      method: "POST",
      auth: null,
    });
    expect(res.status).toBe(201);
    const body = await res.json<any>();
    expect(body.data).toMatchObject({ cluster_name: "pub", uses_remaining: 1, name: null });
    expect(decode(body.data.key).server).toBe("http://outpost.test");
  });
});

describe("GET/PATCH/DELETE /api/v1/enrollment_keys/{id}", () => {
  it("reads the same key back, patches omitted vs null, and deletes", async () => {
    const created = (
      await api.post("/api/v1/clusters/prod-east/enrollment_keys", { name: "p", uses_remaining: 3 })
    ).body.data;
    const got = await api.get(`/api/v1/enrollment_keys/${created.id}`);
    expect(got.body.data.key).toBe(created.key);

    const renamed = await api.patch(`/api/v1/enrollment_keys/${created.id}`, { name: "renamed" });
    expect(renamed.body.data).toMatchObject({ name: "renamed", uses_remaining: 3 });
    const expiry = future();
    const cleared = await api.patch(`/api/v1/enrollment_keys/${created.id}`, {
      name: null,
      uses_remaining: null,
      expired_at: expiry,
    });
    expect(cleared.body.data).toMatchObject({ name: null, uses_remaining: null });
    expect(cleared.body.data.expired_at).not.toBeNull();
    const noExpiry = await api.patch(`/api/v1/enrollment_keys/${created.id}`, { expired_at: null });
    expect(noExpiry.body.data.expired_at).toBeNull();
    expect(Date.parse(noExpiry.body.data.updated_at)).toBeGreaterThanOrEqual(Date.parse(created.updated_at));

    expect((await api.patch(`/api/v1/enrollment_keys/${created.id}`, { uses_remaining: 0 })).status).toBe(
      422,
    );
    expect(
      (await api.patch(`/api/v1/enrollment_keys/${created.id}`, { expired_at: "2000-01-01T00:00:00Z" }))
        .status,
    ).toBe(422);
    expect((await api.del(`/api/v1/enrollment_keys/${created.id}`)).status).toBe(204);
    expect((await api.get(`/api/v1/enrollment_keys/${created.id}`)).status).toBe(404);
    expect((await api.del(`/api/v1/enrollment_keys/${created.id}`)).status).toBe(404);
  });

  it("answers a malformed id with 400 and an unknown one with 404", async () => {
    const bad = await api.get("/api/v1/enrollment_keys/not-a-uuid");
    expect(bad.status).toBe(400);
    expect(bad.body.error.details).toHaveProperty("id");
    expect((await api.patch("/api/v1/enrollment_keys/not-a-uuid", {})).status).toBe(400);
    expect((await api.del("/api/v1/enrollment_keys/not-a-uuid")).status).toBe(400);
    const unknown = "3f2504e0-4f89-41d3-9a0c-0305e82c3301";
    expect((await api.get(`/api/v1/enrollment_keys/${unknown}`)).status).toBe(404);
    expect((await api.patch(`/api/v1/enrollment_keys/${unknown}`, { name: "x" })).status).toBe(404);
  });

  it("deleting a cluster without nodes deletes its keys", async () => {
    await api.post("/api/v1/clusters", { name: "short-lived" });
    const key = (await api.post("/api/v1/clusters/short-lived/enrollment_keys", {})).body.data;
    expect((await api.del("/api/v1/clusters/short-lived")).status).toBe(204);
    expect((await api.get(`/api/v1/enrollment_keys/${key.id}`)).status).toBe(404);
  });
});
