import { beforeAll, describe, expect, it } from "vitest";
import { grants } from "../../src/access/permissions";
import { listOperations } from "../../workers/openapi/registry";
import { as, userSession } from "./access-fixture";
import { enrolNode } from "./agent-session";
import { API_KEY, createTestApi, type TestApi } from "./harness";

let api: TestApi;
const tokens = new Map<string, string>();
beforeAll(async () => {
  api = await createTestApi();
});

const SAMPLE_PARAMS: Record<string, string> = {
  name: "some-cluster",
  cluster_name: "some-cluster",
};
function concretePath(path: string): string {
  return path.replace(
    /\{(\w+)\}/g,
    (_, name) => SAMPLE_PARAMS[name] ?? "3f2504e0-4f89-41d3-9a0c-0305e82c3301",
  );
}

// One API token per scope set, minted with the API key.
async function tokenWith(scopes: string[]): Promise<string> {
  const id = scopes.join(",");
  const known = tokens.get(id);
  if (known) return known;
  const res = await as(api, undefined).post("/api/v1/api_tokens", { name: `scope ${id}`, scopes });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  tokens.set(id, res.body.data.token);
  return res.body.data.token;
}

function call(token: string, op: { method: string; path: string }) {
  return api.fetch(concretePath(op.path), {
    method: op.method.toUpperCase(),
    auth: token,
    headers: { "content-type": "application/json" },
    body: op.method === "get" || op.method === "delete" ? undefined : "{}",
  });
}

describe("route table", () => {
  const guarded = () => listOperations().filter((op) => !op.public);

  it("every non-public operation declares a permission, and the OpenAPI document shows it", async () => {
    const undeclared = guarded()
      .filter((op) => !op.permission)
      .map((op) => `${op.method.toUpperCase()} ${op.path}`);
    expect(undeclared).toEqual([]);
    const doc = await (await api.fetch("/api/v1/openapi.json", { auth: null })).json<any>();
    for (const op of listOperations()) {
      const documented = doc.paths[op.path][op.method]["x-permission"];
      expect(documented, `${op.method} ${op.path}`).toBe(op.public ? undefined : op.permission);
    }
  });

  it("a principal without the permission gets 403 forbidden on every operation", async () => {
    for (const op of guarded()) {
      if (!op.permission || op.permission === "authenticated") continue;
      const other = grants(["events:read"], op.permission) ? ["metrics:read"] : ["events:read"];
      const res = await call(await tokenWith(other), op);
      const label = `${op.method.toUpperCase()} ${op.path} without ${op.permission}`;
      expect(res.status, label).toBe(403);
      const body = await res.json<any>();
      expect(body.error.code, label).toBe("forbidden");
    }
  });

  it("a principal holding exactly the permission passes the check on every operation", async () => {
    for (const op of guarded()) {
      if (!op.permission || op.permission === "authenticated") continue;
      const res = await call(await tokenWith([op.permission]), op);
      const label = `${op.method.toUpperCase()} ${op.path} with ${op.permission}`;
      expect(res.status, label).not.toBe(401);
      const text = await res.text();
      if (res.status === 403) {
        // A 403 past the permission check is the handler's own rule (e.g. scopes beyond the token's).
        expect(JSON.parse(text).error.details?.permission, label).toBeUndefined();
      }
    }
  });
});

describe("permission boundaries", () => {
  it("a viewer reads commands but cannot create one (403); an operator can", async () => {
    const k = as(api, undefined);
    await k.post("/api/v1/clusters", { name: "pb-one" });
    await enrolNode(api, "pb-one");
    const targeting = { type: "clusters", cluster_names: ["pb-one"] };
    const viewer = await userSession(api, "pb-viewer", ["viewer"]);
    expect((await viewer.client.get("/api/v1/commands")).status).toBe(200);
    const refused = await viewer.client.post("/api/v1/commands", { command_text: "uptime", targeting });
    expect(refused.status).toBe(403);
    expect(refused.body.error).toMatchObject({
      code: "forbidden",
      details: { permission: [expect.any(String)] },
    });
    const operator = await userSession(api, "pb-operator", ["operator"]);
    expect(
      (await operator.client.post("/api/v1/commands", { command_text: "uptime", targeting })).status,
    ).toBe(201);
    expect((await operator.client.get("/api/v1/users")).status).toBe(403);
  });
});

describe("cluster scope", () => {
  it("a cluster-scoped token sees and targets only its clusters' nodes, executions and keys", async () => {
    const k = as(api, undefined);
    await k.post("/api/v1/clusters", { name: "cs-mine" });
    await k.post("/api/v1/clusters", { name: "cs-theirs" });
    const mine = await enrolNode(api, "cs-mine");
    const theirs = await enrolNode(api, "cs-theirs");
    const created = await k.post("/api/v1/api_tokens", {
      name: "scoped",
      scopes: ["nodes:read", "commands:*", "enrollment_keys:read", "clusters:read"],
      cluster_names: ["cs-mine"],
    });
    const scoped = as(api, created.body.data.token);

    const nodes = (await scoped.get("/api/v1/nodes?page_size=100")).body.data.map((n: any) => n.id);
    expect(nodes).toEqual([mine.nodeId]);
    expect((await scoped.get(`/api/v1/nodes/${mine.nodeId}`)).status).toBe(200);
    expect((await scoped.get(`/api/v1/nodes/${theirs.nodeId}`)).status).toBe(404);
    expect((await scoped.get("/api/v1/clusters")).body.data.map((c: any) => c.name)).toEqual(["cs-mine"]);
    expect((await scoped.get("/api/v1/clusters/cs-theirs")).status).toBe(404);
    const keys = (await scoped.get("/api/v1/enrollment_keys?page_size=100")).body.data;
    expect(new Set(keys.map((key: any) => key.cluster_name))).toEqual(new Set(["cs-mine"]));

    // Targeting is intersected with the scope; a command only for other clusters is 403.
    const all = await scoped.post("/api/v1/commands", { command_text: "id", targeting: { type: "all" } });
    expect(all.status).toBe(201);
    const execs = (await scoped.get(`/api/v1/command_executions?command_id=${all.body.data.id}`)).body.data;
    expect(execs.map((e: any) => e.node_id)).toEqual([mine.nodeId]);
    const outside = await scoped.post("/api/v1/commands", {
      command_text: "id",
      targeting: { type: "nodes", node_ids: [theirs.nodeId] },
    });
    expect(outside.status).toBe(403);

    const theirCommand = await k.post("/api/v1/commands", {
      command_text: "id",
      targeting: { type: "nodes", node_ids: [theirs.nodeId] },
    });
    const theirExec = (await k.get(`/api/v1/command_executions?command_id=${theirCommand.body.data.id}`)).body
      .data[0];
    expect((await scoped.get(`/api/v1/command_executions/${theirExec.id}`)).status).toBe(404);
    const visible = (await scoped.get("/api/v1/command_executions?page_size=100")).body.data;
    expect(visible.map((e: any) => e.node_id)).toEqual([mine.nodeId]);

    // A scoped token cannot mint a token for other clusters.
    const wider = await as(api, created.body.data.token).post("/api/v1/api_tokens", {
      name: "wider",
      scopes: ["nodes:read"],
      cluster_names: ["cs-theirs"],
    });
    expect(wider.status).toBe(403);
  });
});

describe("stream tokens", () => {
  it("open one SSE path for 60 s; the stream refuses keys, sessions and API tokens in ?token=", async () => {
    const k = as(api, undefined);
    await k.post("/api/v1/clusters", { name: "st-one" });
    const node = await enrolNode(api, "st-one");
    const cmd = await k.post("/api/v1/commands", {
      command_text: "id",
      targeting: { type: "nodes", node_ids: [node.nodeId] },
    });
    const exec = (await k.get(`/api/v1/command_executions?command_id=${cmd.body.data.id}`)).body.data[0];
    await k.patch(`/api/v1/command_executions/${exec.id}/cancel`);
    const path = `/api/v1/command_executions/${exec.id}/stream`;

    const issued = await k.post("/api/v1/stream_tokens", { path });
    expect(issued.status).toBe(201);
    expect(issued.body.data.token).toMatch(/^otst_/);
    const ttl = Date.parse(issued.body.data.expires_at) - Date.now();
    expect(ttl).toBeGreaterThan(55_000);
    expect(ttl).toBeLessThanOrEqual(60_000);

    const ok = await api.fetch(`${path}?token=${issued.body.data.token}`, { auth: null });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("content-type")).toContain("text/event-stream");
    await ok.text();

    const other = `/api/v1/command_executions/3f2504e0-4f89-41d3-9a0c-0305e82c3301/stream`;
    expect((await api.fetch(`${other}?token=${issued.body.data.token}`, { auth: null })).status).toBe(401);
    const { token: session } = await userSession(api, "st-user", ["viewer"]);
    for (const secret of [API_KEY, session, "otst_forged.abc"]) {
      const res = await api.fetch(`${path}?token=${encodeURIComponent(secret)}`, { auth: null });
      expect(res.status, secret).toBe(401);
      await res.text();
    }
    // Not accepted as a Bearer credential either.
    expect((await as(api, issued.body.data.token).get("/api/v1/auth/me")).status).toBe(401);
    // Only SSE paths, and only with the stream's permission.
    expect((await k.post("/api/v1/stream_tokens", { path: "/api/v1/nodes" })).status).toBe(422);
    const events = await tokenWith(["events:read"]);
    expect((await as(api, events).post("/api/v1/stream_tokens", { path })).status).toBe(403);
  });
});
