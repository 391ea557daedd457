import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { as } from "./access-fixture";
import { enrolNode } from "./agent-session";
import { createTestApi } from "./harness";
import { api, db, makeCluster, P, setUpNodes, startNodesFile } from "./nodes-fixture";

startNodesFile();

// A token limited to cluster A, holding every permission, against each path that could reach
// outside A: targeting (commands, self-updates, inventory refreshes), moves, new clusters, the
// default cluster's keys, node-bound reads and writes, and the fleet-wide resources (403).
beforeAll(setUpNodes);

let A = "";
let B = "";
let inA = "";
let inB = "";
let scoped: ReturnType<typeof as>;
const RELEASE = { version: "9.9.9", url: "https://downloads.example.com/a.mjs", sha256: "ab".repeat(32) };

beforeAll(async () => {
  A = `${P}-sa`;
  B = `${P}-sb`;
  await makeCluster(A);
  await makeCluster(B);
  inA = (await enrolNode(api, A)).nodeId;
  inB = (await enrolNode(api, B)).nodeId;
  // Eligible for self-updates (healthy); no agent is connected, so nothing is actually sent.
  await db.run(sql`UPDATE nodes SET status = 'healthy' WHERE id IN (${inA}, ${inB})`);
  const token = await api.post("/api/v1/api_tokens", {
    name: `${P}-scoped`,
    scopes: ["*"],
    cluster_names: [A],
  });
  expect(token.status, JSON.stringify(token.body)).toBe(201);
  scoped = as(api, token.body.data.token);
});

const forbidden = (res: { status: number; body: any }) => {
  expect(res.status, JSON.stringify(res.body)).toBe(403);
  expect(res.body.error.code).toBe("forbidden");
};

describe("targeting", () => {
  it("commands: targets outside the scope are dropped; only outside is 403", async () => {
    const both = await scoped.post("/api/v1/commands", {
      command_text: "true",
      targeting: { type: "nodes", node_ids: [inA, inB] },
    });
    expect(both.status, JSON.stringify(both.body)).toBe(201);
    const executions = await api.get(`/api/v1/command_executions?command_id=${both.body.data.id}`);
    expect(executions.body.data.map((e: any) => e.node_id)).toEqual([inA]);
    forbidden(
      await scoped.post("/api/v1/commands", {
        command_text: "true",
        targeting: { type: "clusters", cluster_names: [B] },
      }),
    );
  });

  it("self-update requests: stored narrowed to the scope; only outside is 403", async () => {
    const all = await scoped.post("/api/v1/self_update_requests", {
      targeting: { type: "all", cluster_filters: { name: `${P}-*` } },
      release: RELEASE,
    });
    expect(all.status, JSON.stringify(all.body)).toBe(201);
    expect(all.body.data.targeting).toMatchObject({ type: "clusters", cluster_names: [A] });
    const nodes = await scoped.post("/api/v1/self_update_requests", {
      targeting: { type: "nodes", node_ids: [inA, inB] },
      release: RELEASE,
    });
    expect(nodes.status, JSON.stringify(nodes.body)).toBe(201);
    expect(nodes.body.data.targeting.node_ids).toEqual([inA]);
    forbidden(
      await scoped.post("/api/v1/self_update_requests", {
        targeting: { type: "clusters", cluster_names: [B] },
        release: RELEASE,
      }),
    );
    forbidden(
      await scoped.post("/api/v1/self_update_requests", {
        targeting: { type: "nodes", node_ids: [inB] },
        release: RELEASE,
      }),
    );
  });

  it("inventory refreshes: only the scope's nodes are asked; only outside is 403", async () => {
    const res = await scoped.post("/api/v1/inventory_refresh_requests", {
      targeting: { type: "clusters", cluster_names: [A, B] },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const rows = await db.all<{ node_id: string }>(
      sql`SELECT node_id FROM inventory_refresh_targets WHERE request_id = ${res.body.data.id}`,
    );
    expect(rows.map((r) => r.node_id)).toEqual([inA]);
    forbidden(
      await scoped.post("/api/v1/inventory_refresh_requests", {
        targeting: { type: "nodes", node_ids: [inB] },
      }),
    );
    // A node-level refresh of a node outside the scope does not exist for this token.
    expect((await scoped.patch(`/api/v1/nodes/${inB}/inventory/refresh`, {})).status).toBe(404);
  });
});

describe("fleet requests: lists and single requests keep to the scope", () => {
  const reaches = (t: any) => [...(t.cluster_names ?? []), ...(t.node_ids ?? [])];

  it("self-update requests: only those within the scope are listed; another's is 404", async () => {
    const mine = await scoped.post("/api/v1/self_update_requests", {
      targeting: { type: "nodes", node_ids: [inA] },
      release: RELEASE,
    });
    expect(mine.status, JSON.stringify(mine.body)).toBe(201);
    const other = await api.post("/api/v1/self_update_requests", {
      targeting: { type: "clusters", cluster_names: [A, B] },
      release: RELEASE,
    });
    expect(other.status, JSON.stringify(other.body)).toBe(201);
    const list = await scoped.get("/api/v1/self_update_requests?page_size=100");
    expect(list.status).toBe(200);
    const ids = list.body.data.map((r: any) => r.id);
    expect(ids).toContain(mine.body.data.id);
    expect(ids).not.toContain(other.body.data.id);
    for (const row of list.body.data)
      expect(reaches(row.targeting).every((x) => x === A || x === inA)).toBe(true);
    expect((await scoped.get(`/api/v1/self_update_requests/${other.body.data.id}`)).status).toBe(404);
    expect((await scoped.del(`/api/v1/self_update_requests/${other.body.data.id}`)).status).toBe(404);
    expect((await scoped.get(`/api/v1/self_update_requests/${mine.body.data.id}`)).status).toBe(200);
    const all = await api.get("/api/v1/self_update_requests?page_size=100");
    expect(all.body.meta.pagination.total_count).toBeGreaterThan(list.body.meta.pagination.total_count);
  });

  it("inventory refresh requests: only those within the scope are listed; another's is 404", async () => {
    const mine = await scoped.post("/api/v1/inventory_refresh_requests", {
      targeting: { type: "clusters", cluster_names: [A] },
    });
    expect(mine.status, JSON.stringify(mine.body)).toBe(202);
    const other = await api.post("/api/v1/inventory_refresh_requests", {
      targeting: { type: "nodes", node_ids: [inA, inB] },
    });
    expect(other.status, JSON.stringify(other.body)).toBe(202);
    const list = await scoped.get("/api/v1/inventory_refresh_requests?page_size=100");
    expect(list.status).toBe(200);
    const ids = list.body.data.map((r: any) => r.id);
    expect(ids).toContain(mine.body.data.id);
    expect(ids).not.toContain(other.body.data.id);
    for (const row of list.body.data)
      expect(reaches(row.targeting).every((x) => x === A || x === inA)).toBe(true);
    expect((await scoped.get(`/api/v1/inventory_refresh_requests/${other.body.data.id}`)).status).toBe(404);
    expect((await scoped.get(`/api/v1/inventory_refresh_requests/${mine.body.data.id}`)).status).toBe(200);
    expect((await api.get(`/api/v1/inventory_refresh_requests/${other.body.data.id}`)).status).toBe(200);
  });
});

describe("writes into another cluster", () => {
  it("change_cluster: a move out of the scope is 403 and the node stays", async () => {
    forbidden(await scoped.patch(`/api/v1/nodes/${inA}/change_cluster`, { cluster_name: B }));
    expect((await api.get(`/api/v1/nodes/${inA}`)).body.data.cluster_name).toBe(A);
    // And a node outside the scope cannot be pulled in.
    expect((await scoped.patch(`/api/v1/nodes/${inB}/change_cluster`, { cluster_name: A })).status).toBe(404);
  });

  it("a new cluster lies outside the scope: 403", async () => {
    forbidden(await scoped.post("/api/v1/clusters", { name: `${P}-sc` }));
    expect((await api.get(`/api/v1/clusters/${P}-sc`)).status).toBe(404);
  });

  it("the default cluster's enrollment key: 403 when the default cluster is outside the scope", async () => {
    const token = (
      await api.post("/api/v1/api_tokens", { name: `${P}-d`, scopes: ["*"], cluster_names: [A] })
    ).body.data.token;
    const client = as(await createTestApi({ DEFAULT_CLUSTER_NAME: B }, { sharedDatabase: true }), token);
    forbidden(await client.post("/api/v1/clusters/default/enrollment_keys", {}));
    const inScope = as(await createTestApi({ DEFAULT_CLUSTER_NAME: A }, { sharedDatabase: true }), token);
    expect((await inScope.post("/api/v1/clusters/default/enrollment_keys", {})).status).toBe(201);
  });
});

describe("node-bound routes answer 404 outside the scope", () => {
  it.each([
    ["get", (id: string) => `/api/v1/nodes/${id}/inventory`],
    ["get", (id: string) => `/api/v1/nodes/${id}/inventory/system`],
    ["get", (id: string) => `/api/v1/nodes/${id}/software`],
    ["get", (id: string) => `/api/v1/nodes/${id}/updates`],
    ["get", (id: string) => `/api/v1/nodes/${id}/metrics/history`],
    ["patch", (id: string) => `/api/v1/nodes/${id}/rotate_token`],
    ["patch", (id: string) => `/api/v1/nodes/${id}/revoke_token`],
  ] as const)("%s %s", async (method, path) => {
    const res = method === "get" ? await scoped.get(path(inB)) : await scoped.patch(path(inB), {});
    expect(res.status, JSON.stringify(res.body)).toBe(404);
  });

  it("the fleet summaries count only the scope's nodes", async () => {
    const summary = await scoped.get(`/api/v1/nodes/summary?cluster_name=${P}-*`);
    expect(summary.status).toBe(200);
    expect(summary.body.data.by_cluster).toEqual({ [A]: 1 });
    const updates = await scoped.get(`/api/v1/updates/summary?cluster_name=${P}-*`);
    expect(updates.body.data.nodes).toBe(1);
  });

  it("tombstones: only those recorded in the scope's clusters", async () => {
    const doomed = (await enrolNode(api, B)).nodeId;
    expect((await api.del(`/api/v1/nodes/${doomed}?block_reenroll=true`)).status).toBe(204);
    const list = await scoped.get("/api/v1/node_tombstones?page_size=100");
    expect(list.body.data.map((t: any) => t.node_id)).not.toContain(doomed);
    expect((await scoped.del(`/api/v1/node_tombstones/${doomed}`)).status).toBe(404);
  });
});

describe("fleet-wide resources are 403 for a scoped token", () => {
  it.each([
    ["get", "/api/v1/webhooks"],
    ["post", "/api/v1/webhooks"],
    ["get", `/api/v1/webhooks/${crypto.randomUUID()}`],
    ["get", "/api/v1/users"],
    ["post", "/api/v1/users"],
    ["post", "/api/v1/roles"],
    ["get", "/api/v1/audit_events"],
    ["post", "/api/v1/alert_rules"],
    ["get", "/api/v1/admins/edge_clusters"],
  ] as const)("%s %s", async (method, path) => {
    const res = method === "get" ? await scoped.get(path) : await scoped.post(path, {});
    forbidden(res);
  });

  it("an unscoped principal still reaches them", async () => {
    expect((await api.get("/api/v1/webhooks")).status).toBe(200);
  });
});
