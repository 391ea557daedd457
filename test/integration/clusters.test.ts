import { beforeAll, describe, expect, it } from "vitest";
import { createTestApi, type TestApi } from "./harness";

let api: TestApi;
beforeAll(async () => {
  api = await createTestApi({ CLUSTER_IPV4_POOL: "100.64.0.0/16", CLUSTER_IPV4_PREFIX: "24" });
});

describe("POST /api/v1/clusters — happy path", () => {
  it("creates a cluster with derived names and an auto-allocated range", async () => {
    const res = await api.post("/api/v1/clusters", { name: "prod-east", node_limit: 50 });
    expect(res.status).toBe(201);
    expect(res.body.data).toMatchObject({
      name: "prod-east",
      ipv4_range: "100.64.0.0/24",
      network_name: "cluster-prod-east",
      vpn_domain: "cluster-prod-east.nm.internal",
      node_limit: 50,
      node_count: 0,
      nodes: [],
    });
    expect(res.body.data.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.body.data.inserted_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(res.body.meta.request_id).toBe(res.headers.get("x-request-id"));
  });

  it("allocates the next free block, skipping explicitly claimed ranges", async () => {
    const explicit = await api.post("/api/v1/clusters", { name: "explicit", ipv4_range: "100.64.1.0/24" });
    expect(explicit.status).toBe(201);
    const auto = await api.post("/api/v1/clusters", { name: "auto-two" });
    expect(auto.body.data.ipv4_range).toBe("100.64.2.0/24");
    expect(auto.body.data.node_limit).toBeNull();
  });
});

describe("POST /api/v1/clusters — validation", () => {
  it.each([
    [{}, "name"],
    [{ name: "" }, "name"],
    [{ name: "UPPER" }, "name"],
    [{ name: "-lead" }, "name"],
    [{ name: "trail-" }, "name"],
    [{ name: "a".repeat(25) }, "name"],
    [{ name: "default" }, "name"],
    [{ name: 7 }, "name"],
    [{ name: "ok-name", node_limit: 0 }, "node_limit"],
    [{ name: "ok-name", node_limit: 1.5 }, "node_limit"],
    [{ name: "ok-name", node_limit: "5" }, "node_limit"],
    [{ name: "ok-name", ipv4_range: "10.0.0.0" }, "ipv4_range"],
    [{ name: "ok-name", ipv4_range: "300.1.1.0/24" }, "ipv4_range"],
    [{ name: "ok-name", ipv4_range: "10.0.0.7/24" }, "ipv4_range"],
    [{ name: "ok-name", ipv4_range: "10.0.0.0/33" }, "ipv4_range"],
    [{ name: "ok-name", extra: true }, "extra"],
  ])("rejects %j with 422 naming %s", async (body, field) => {
    const res = await api.post("/api/v1/clusters", body);
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe("validation_failed");
    expect(Object.keys(res.body.error.details)).toContain(field);
  });

  it("rejects an overlapping range with 422", async () => {
    await api.post("/api/v1/clusters", { name: "wide", ipv4_range: "10.20.0.0/16" });
    const res = await api.post("/api/v1/clusters", { name: "inside", ipv4_range: "10.20.5.0/24" });
    expect(res.status).toBe(422);
    expect(res.body.error.details.ipv4_range[0]).toContain('"wide"');
  });

  it("rejects a duplicate name with 409", async () => {
    await api.post("/api/v1/clusters", { name: "dupe" });
    const res = await api.post("/api/v1/clusters", { name: "dupe" });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe("conflict");
  });

  it("answers malformed JSON, a wrong content type and an oversized body with 4xx envelopes", async () => {
    const bad = await api.fetch("/api/v1/clusters", {
      method: "POST",
      body: "{nope",
      headers: { "content-type": "application/json" },
    });
    expect(bad.status).toBe(400);
    expect((await bad.json<any>()).error.code).toBe("bad_request");
    const text = await api.fetch("/api/v1/clusters", {
      method: "POST",
      body: "name=x",
      headers: { "content-type": "text/plain" },
    });
    expect(text.status).toBe(415);
    const huge = await api.fetch("/api/v1/clusters", {
      method: "POST",
      body: JSON.stringify({ name: "x".repeat(2 * 1024 * 1024) }),
      headers: { "content-type": "application/json" },
    });
    expect(huge.status).toBe(413);
    expect((await huge.json<any>()).meta.request_id).toBeTruthy();
  });
});

describe("GET/PATCH/DELETE /api/v1/clusters/{name}", () => {
  it("gets, patches (omitted vs null) and deletes", async () => {
    await api.post("/api/v1/clusters", { name: "lifecycle", node_limit: 5 });
    expect((await api.get("/api/v1/clusters/lifecycle")).body.data.node_limit).toBe(5);
    const untouched = await api.patch("/api/v1/clusters/lifecycle", {});
    expect(untouched.body.data.node_limit).toBe(5);
    const set = await api.patch("/api/v1/clusters/lifecycle", { node_limit: 9 });
    expect(set.body.data.node_limit).toBe(9);
    const cleared = await api.patch("/api/v1/clusters/lifecycle", { node_limit: null });
    expect(cleared.status).toBe(200);
    expect(cleared.body.data.node_limit).toBeNull();
    expect((await api.patch("/api/v1/clusters/lifecycle", { node_limit: 0 })).status).toBe(422);
    expect((await api.patch("/api/v1/clusters/lifecycle", { name: "rename" })).status).toBe(422);
    expect((await api.del("/api/v1/clusters/lifecycle")).status).toBe(204);
    expect((await api.get("/api/v1/clusters/lifecycle")).status).toBe(404);
  });

  it("404s unknown clusters on every verb", async () => {
    expect((await api.get("/api/v1/clusters/nope")).status).toBe(404);
    expect((await api.patch("/api/v1/clusters/nope", { node_limit: 1 })).status).toBe(404);
    expect((await api.del("/api/v1/clusters/nope")).body.error.code).toBe("not_found");
  });
});
