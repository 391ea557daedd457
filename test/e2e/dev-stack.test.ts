// The local stack end to end: `scripts/dev.mjs` (libSQL dev server + migrations + wrangler dev +
// cron ticker) driven over real HTTP.
import { existsSync, readFileSync, statSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Validator } from "@seriousme/openapi-schema-validator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { portIsFree, ROOT, type Stack, stackProcesses, startStack } from "../support/stack";

async function api(
  stack: Stack,
  method: string,
  path: string,
  body?: unknown,
  key: string | null = stack.apiKey,
) {
  const headers: Record<string, string> = {};
  if (key) headers.Authorization = `Bearer ${key}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(`${stack.url}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

/** Stops a stack and checks it left nothing behind: exit 0, port free, no process of its DATA_DIR. */
async function stopAndCheck(stack: Stack) {
  expect(await stack.stop()).toBe(0);
  expect(await portIsFree(stack.port)).toBe(true);
  expect(await stackProcesses(stack.dataDir)).toEqual([]);
}

const rootDevVars = join(ROOT, ".dev.vars");
const devVarsBefore = existsSync(rootDevVars) ? statSync(rootDevVars).mtimeMs : null;

describe("dev stack (npm start)", () => {
  let dataDir: string;
  let stack: Stack;
  let keyId: string;
  let keyBlob: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "outpost-e2e-persist-"));
    stack = await startStack({
      dataDir,
      cronInterval: 1,
      env: {
        DEV_LOG_TICKS: "1",
        DEFAULT_CLUSTER_NAME: "edge",
        PUBLIC_ENROLLMENT_KEY_ENABLED: "true",
        // The 120-node burst below is about the write lock, not the per-IP limit (rate-limits.test.ts).
        RATE_LIMIT_ENROLL_PER_MINUTE: "0",
      },
    });
  });

  afterAll(async () => {
    await stack?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("answers /health with the database reachable", async () => {
    const res = await fetch(`${stack.url}/health`);
    expect(res.status).toBe(200);
    const { data } = (await res.json()) as { data: any };
    expect(data.status).toBe("ok");
    expect(data.database.reachable).toBe(true);
  });

  it("serves an OpenAPI 3.1 document that a standard validator accepts, and Swagger UI", async () => {
    const doc = (await (await fetch(`${stack.url}/api/v1/openapi.json`)).json()) as any;
    const result = await new Validator().validate(doc);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    const create = doc.paths["/api/v1/clusters"].post.requestBody.content["application/json"].schema;
    expect(create.properties.name).toMatchObject({ type: "string", maxLength: 24 });
    expect(create.additionalProperties).toBe(false);
    expect(doc.paths["/api/v1/clusters/default/enrollment_keys/public"].post.security).toEqual([]);
    const ui = await fetch(`${stack.url}/swaggerui`);
    expect(ui.status).toBe(200);
    expect(await ui.text()).toContain("/swaggerui/swagger-initializer.js");
    const init = await fetch(`${stack.url}/swaggerui/swagger-initializer.js`);
    expect(init.status).toBe(200);
    expect(await init.text()).toContain("/api/v1/openapi.json");
  });

  it("reports a sane uptime and version on /health", async () => {
    const { data } = (await (await fetch(`${stack.url}/health`)).json()) as { data: any };
    expect(data.uptime_seconds).toBeGreaterThanOrEqual(0);
    expect(data.uptime_seconds).toBeLessThan(3600);
    expect(data.version).toMatch(/^\d+\.\d+\.\d+/);
  });

  it("rejects the API without a key, in the error envelope", async () => {
    const res = await api(stack, "GET", "/api/v1/clusters", undefined, null);
    expect(res.status).toBe(401);
    expect(res.json.error).toMatchObject({ code: "unauthorized", message: expect.any(String) });
    expect(res.json.meta.request_id).toEqual(expect.any(String));
  });

  it("creates a cluster and an enrollment key and reads them back", async () => {
    const cluster = await api(stack, "POST", "/api/v1/clusters", { name: "edge" });
    expect(cluster.status).toBe(201);
    expect(cluster.json.data.name).toBe("edge");
    const key = await api(stack, "POST", "/api/v1/clusters/edge/enrollment_keys", {}, stack.masterKey);
    expect(key.status).toBe(201);
    keyId = key.json.data.id;
    keyBlob = key.json.data.key;
    expect(keyBlob).toEqual(expect.any(String));

    const readCluster = await api(stack, "GET", "/api/v1/clusters/edge");
    expect(readCluster.status).toBe(200);
    expect(readCluster.json.data.id).toBe(cluster.json.data.id);
    const readKey = await api(stack, "GET", `/api/v1/enrollment_keys/${keyId}`);
    expect(readKey.status).toBe(200);
    expect(readKey.json.data).toMatchObject({ id: keyId, cluster_name: "edge", key: keyBlob });
  });

  it("answers a burst of 150 simultaneous API requests and stays healthy", async () => {
    // A per-isolate libSQL client once made concurrent requests wait on each other's I/O; workerd
    // cancelled them ("code had hung") and every later request failed with 500.
    const statuses = await Promise.all(
      Array.from({ length: 150 }, (_, i) =>
        api(stack, "GET", i % 2 ? "/api/v1/clusters" : "/api/v1/nodes?page_size=5").then((r) => r.status),
      ),
    );
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect((await fetch(`${stack.url}/health`)).status).toBe(200);
  });

  it("enrols 120 nodes sent at once, every one (a burst queues on the write lock, never 500s)", async () => {
    const cluster = await api(stack, "POST", "/api/v1/clusters", {
      name: "burst",
      ipv4_range: "100.99.0.0/22",
    });
    expect(cluster.status).toBe(201);
    const key = await api(stack, "POST", "/api/v1/clusters/burst/enrollment_keys", { uses_remaining: null });
    const secret = JSON.parse(Buffer.from(key.json.data.key, "base64").toString()).key;
    const statuses = await Promise.all(
      Array.from({ length: 120 }, () =>
        fetch(`${stack.url}/agent/v1/enroll`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            key: secret,
            node_id: crypto.randomUUID(),
            id_type: "random",
            hostname: "burst",
            platform: "linux",
            version: "0.1.0",
          }),
        }).then(async (r) => {
          await r.arrayBuffer();
          return r.status;
        }),
      ),
    );
    expect(statuses.filter((s) => s !== 201)).toEqual([]);
    const nodes = await api(stack, "GET", "/api/v1/nodes?cluster_name=burst&page_size=1");
    expect(nodes.json.meta.pagination.total_count).toBe(120);
  });

  it("passes settings from the environment to the Worker", async () => {
    // DEFAULT_CLUSTER_NAME=edge and PUBLIC_ENROLLMENT_KEY_ENABLED=true only exist in the runner's env.
    const res = await api(stack, "POST", "/api/v1/clusters/default/enrollment_keys/public", undefined, null);
    expect(res.status).toBe(201);
    expect(res.json.data.cluster_name).toBe("edge");
  });

  it("calls the scheduled handler on the DEV_CRON_INTERVAL timer", async () => {
    // The runner prints this line only after the Worker's /cdn-cgi/handler/scheduled answered 200.
    const deadline = Date.now() + 10_000;
    while (!stack.output().includes("[cron] tick ok (HTTP 200)") && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(stack.output()).toContain("[cron] tick ok (HTTP 200)");
    expect(stack.output()).not.toContain("scheduled tick failed");
  });

  it("keeps its keys file in DATA_DIR and leaves the repo's .dev.vars alone", () => {
    const vars = readFileSync(join(dataDir, ".dev.vars"), "utf8");
    expect(vars).toMatch(/^ENCRYPTION_KEY=\S+$/m);
    expect(existsSync(rootDevVars) ? statSync(rootDevVars).mtimeMs : null).toBe(devVarsBefore);
  });

  it("stops cleanly: exit 0, port free, no wrangler/workerd/libsql left", async () => {
    expect(await stackProcesses(dataDir)).not.toEqual([]);
    await stopAndCheck(stack);
  });

  it("keeps data across a restart, next to a second stack with its own port and data", async () => {
    const [again, other] = await Promise.all([startStack({ dataDir }), startStack()]);
    try {
      expect(again.port).not.toBe(other.port);
      for (const s of [again, other]) expect((await fetch(`${s.url}/health`)).status).toBe(200);
      // Same DATA_DIR: the rows survived and the key still decrypts (same ENCRYPTION_KEY from the file).
      const key = await api(again, "GET", `/api/v1/enrollment_keys/${keyId}`);
      expect(key.status).toBe(200);
      expect(key.json.data.key).toBe(keyBlob);
      // Fresh DATA_DIR: an empty database of its own.
      expect((await api(other, "GET", "/api/v1/clusters/edge")).status).toBe(404);
      expect((await api(other, "POST", "/api/v1/clusters", { name: "edge" })).status).toBe(201);
    } finally {
      await Promise.all([stopAndCheck(again), stopAndCheck(other)]);
    }
    expect(existsSync(other.dataDir)).toBe(false);
  });
});
