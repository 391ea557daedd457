import { beforeAll, describe, expect, it } from "vitest";
import { listOperations } from "../../workers/openapi/registry";
import { createTestApi, MASTER_KEY, type TestApi } from "./harness";

let api: TestApi;
beforeAll(async () => {
  api = await createTestApi();
});

const SAMPLE_PARAMS: Record<string, string> = {
  id: "3f2504e0-4f89-41d3-9a0c-0305e82c3301",
  name: "some-cluster",
  cluster_name: "some-cluster",
  node_id: "3f2504e0-4f89-41d3-9a0c-0305e82c3301",
};

function concretePath(path: string): string {
  return path.replace(/\{(\w+)\}/g, (_, name) => SAMPLE_PARAMS[name] ?? "x");
}

describe("authentication", () => {
  it("every non-public operation refuses a missing, malformed or wrong key", async () => {
    const guarded = listOperations().filter((op) => !op.public);
    expect(guarded.length).toBeGreaterThan(5);
    for (const op of guarded) {
      for (const auth of [null, "Bearer wrong-key", "Basic dXNlcjpwYXNz", "Bearer"]) {
        const headers: Record<string, string> = { "content-type": "application/json" };
        if (auth) headers.authorization = auth;
        const res = await api.fetch(concretePath(op.path), {
          method: op.method.toUpperCase(),
          headers,
          auth: null,
          body: op.method === "get" || op.method === "delete" ? undefined : "{}",
        });
        expect(res.status, `${op.method} ${op.path} with ${auth}`).toBe(401);
        const body = await res.json<any>();
        expect(body.error.code).toBe("unauthorized");
        expect(body.meta.request_id).toBeTruthy();
      }
    }
  });

  it("accepts the MASTER_KEY as well as the API_KEY", async () => {
    const res = await api.fetch("/api/v1/clusters", { auth: MASTER_KEY });
    expect(res.status).toBe(200);
  });

  it("leaves the documented public routes open", async () => {
    for (const path of ["/health", "/api/v1/openapi.json", "/swaggerui"]) {
      const res = await api.fetch(path, { auth: null });
      expect(res.status, path).toBe(200);
    }
  });
});

describe("envelope and request ids", () => {
  it("keeps a sane incoming x-request-id and replaces an insane one", async () => {
    const kept = await api.fetch("/api/v1/clusters", { headers: { "x-request-id": "req-12345678" } });
    expect(kept.headers.get("x-request-id")).toBe("req-12345678");
    expect((await kept.json<any>()).meta.request_id).toBe("req-12345678");
    const replaced = await api.fetch("/api/v1/clusters", { headers: { "x-request-id": "<script>" } });
    expect(replaced.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("answers unknown routes with 404 in the envelope", async () => {
    const res = await api.get("/api/v1/nothing-here");
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({
      error: { code: "not_found", details: null },
      meta: { request_id: expect.any(String) },
    });
  });
});

describe("database outage", () => {
  it("turns an unreachable database into 503 service_unavailable, and /health says so", async () => {
    const down = await createTestApi({ LIBSQL_URL: "http://127.0.0.1:9/" });
    const res = await down.get("/api/v1/clusters");
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe("service_unavailable");
    const created = await down.post("/api/v1/clusters", { name: "x" });
    expect(created.status).toBe(503);
    const health = await down.fetch("/health", { auth: null });
    expect(health.status).toBe(503);
    expect((await health.json<any>()).data.database.reachable).toBe(false);
  });

  it("reports a reachable database on /health", async () => {
    const res = await api.fetch("/health", { auth: null });
    const body = await res.json<any>();
    expect(body.data).toMatchObject({ status: "ok", database: { reachable: true } });
    expect(body.data.version).toMatch(/^\d+\.\d+\.\d+/);
  });
});

describe("OpenAPI document", () => {
  it("is served publicly and covers every registered operation (validated by the unit suite)", async () => {
    const res = await api.fetch("/api/v1/openapi.json", { auth: null });
    const doc = await res.json<any>();
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.servers).toEqual([{ url: "http://outpost.test" }]);
    for (const op of listOperations())
      expect(doc.paths[op.path]?.[op.method], `${op.method} ${op.path}`).toBeDefined();
    const publicKey = doc.paths["/api/v1/clusters/default/enrollment_keys/public"].post;
    expect(publicKey.security).toEqual([]);
    const listParams = doc.paths["/api/v1/enrollment_keys"].get.parameters.map((p: any) => p.name);
    expect(listParams).toEqual(
      expect.arrayContaining(["is_spent", "key", "uses_remaining__gte", "order_by", "page_size"]),
    );
    expect(
      doc.paths["/api/v1/clusters"].post.requestBody.content["application/json"].schema.required,
    ).toEqual(["name"]);
  });
});
