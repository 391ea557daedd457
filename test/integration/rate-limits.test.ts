import { beforeAll, describe, expect, it } from "vitest";
import { inOneWindow } from "../support/rate-limit-window";
import { createTestApi, type TestApi } from "./harness";

// The Workers Rate Limiting bindings of wrangler.toml, as the vitest pool runs them. Each test
// speaks from its own client address (cf-connecting-ip) so the shared counters never mix.
let api: TestApi;

beforeAll(async () => {
  api = await createTestApi({
    RATE_LIMIT_ENROLL_PER_MINUTE: "20",
    RATE_LIMIT_PUBLIC_KEY_PER_MINUTE: "10",
    RATE_LIMIT_AUTH_FAILURES_PER_MINUTE: "10",
    PUBLIC_ENROLLMENT_KEY_ENABLED: "true",
    DEFAULT_CLUSTER_NAME: "fleet",
  });
  expect((await api.post("/api/v1/clusters", { name: "fleet" })).status).toBe(201);
});

const newClient = () => `198.51.100.${Math.floor(Math.random() * 250) + 1}-${crypto.randomUUID()}`;

async function call(path: string, ip: string, init: RequestInit & { json?: unknown; auth?: string | null }) {
  const res = await api.fetch(path, { ...init, headers: { "cf-connecting-ip": ip, ...init.headers } });
  return { status: res.status, body: await res.json<any>(), retryAfter: res.headers.get("retry-after") };
}

function enrol(ip: string) {
  return call("/agent/v1/enroll", ip, {
    method: "POST",
    auth: null,
    json: {
      key: "made-up",
      node_id: crypto.randomUUID(),
      id_type: "random",
      hostname: "h",
      platform: "linux",
      version: "1",
    },
  });
}

function expectRateLimited(res: { status: number; body: any; retryAfter: string | null }) {
  expect(res.status).toBe(429);
  expect(res.retryAfter).toBe("60");
  expect(res.body.error).toMatchObject({ code: "rate_limited", message: expect.any(String), details: null });
  expect(res.body.meta.request_id).toEqual(expect.any(String));
}

describe("rate limits", () => {
  it("POST /agent/v1/enroll: 20 per client per minute, then 429 with Retry-After", async () => {
    const limited = await inOneWindow(async () => {
      const ip = newClient();
      const statuses: number[] = [];
      for (let i = 0; i < 20; i++) statuses.push((await enrol(ip)).status);
      expect(new Set(statuses)).toEqual(new Set([401]));
      return enrol(ip);
    });
    expectRateLimited(limited);
    // Another client is not affected.
    expect((await enrol(newClient())).status).toBe(401);
  });

  it("the public enrollment-key endpoint: 10 per client per minute", async () => {
    const limited = await inOneWindow(async () => {
      const ip = newClient();
      for (let i = 0; i < 10; i++) {
        const res = await call("/api/v1/clusters/default/enrollment_keys/public", ip, {
          method: "POST",
          auth: null,
        });
        expect(res.status).toBe(201);
      }
      return call("/api/v1/clusters/default/enrollment_keys/public", ip, { method: "POST", auth: null });
    });
    expectRateLimited(limited);
  });

  it("failed API authentication: 10 failures per client, then 429; other clients keep 401 and the real key works", async () => {
    const { ip, limited } = await inOneWindow(async () => {
      const ip = newClient();
      for (let i = 0; i < 10; i++) {
        const res = await call("/api/v1/clusters", ip, { auth: `wrong-${i}` });
        expect(res.status).toBe(401);
      }
      return { ip, limited: await call("/api/v1/clusters", ip, { auth: "wrong-again" }) };
    });
    expectRateLimited(limited);
    expectRateLimited(await call("/api/v1/clusters", ip, { auth: null }));
    expect((await call("/api/v1/clusters", newClient(), { auth: "wrong" })).status).toBe(401);
    expect((await call("/api/v1/clusters", ip, {})).status).toBe(200);
  });

  it("is listed in the OpenAPI document", async () => {
    const doc = (await api.get("/api/v1/openapi.json")).body;
    expect(doc.paths["/agent/v1/enroll"].post.responses["429"]).toBeDefined();
    expect(doc.paths["/api/v1/clusters/default/enrollment_keys/public"].post.responses["429"]).toBeDefined();
    expect(doc.paths["/api/v1/clusters"].get.responses["429"]).toBeDefined();
  });
});
