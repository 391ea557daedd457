import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { ipv4ToInt, parseCidr } from "../../src/net/cidr";
import { CLOSE_CODES } from "../../src/protocol/frames";
import { connectAgent, enrolNode } from "./agent-session";
import { eventually } from "./harness";
import { api, clusters, db, makeCluster, NODE_FIELDS, P, setUpNodes, startNodesFile } from "./nodes-fixture";

startNodesFile();

// One node: read, update, delete, cluster change and metrics. The list is in node-list.test.ts.

function inRange(ip: string, cidr: string) {
  const parsed = parseCidr(cidr, 8, 30);
  if ("error" in parsed) throw new Error(parsed.error);
  const n = ipv4ToInt(ip)!;
  return n > parsed.block.start && n < parsed.block.end;
}

async function eventsFor(nodeId: string, type: string) {
  const rows = await db.all<{ data: string }>(
    sql`SELECT data FROM events WHERE type = ${type} AND json_extract(data, '$.node_id') = ${nodeId} ORDER BY occurred_at, rowid`,
  );
  return rows.map((r) => JSON.parse(r.data));
}

beforeAll(setUpNodes);

describe("GET and PATCH /api/v1/nodes/{id}", () => {
  const C = `${P}-gp`;
  let nodeId: string;
  let enrolled: any;

  beforeAll(async () => {
    await makeCluster(C);
    ({ nodeId, node: enrolled } = await enrolNode(api, C));
  });

  it("reads a node in the single envelope", async () => {
    const res = await api.get(`/api/v1/nodes/${nodeId}`);
    expect(res.status).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(["data", "meta"]);
    expect(Object.keys(res.body.meta).sort()).toEqual(["request_id", "timestamp"]);
    expect(res.body.meta.request_id).toBe(res.headers.get("x-request-id"));
    expect(Object.keys(res.body.data).sort()).toEqual(NODE_FIELDS);
    expect(res.body.data).toEqual(enrolled);
    expect((await api.get(`/api/v1/nodes/${nodeId.toUpperCase()}`)).body.data.id).toBe(nodeId);
  });

  it("answers unknown ids with 404, malformed ids and stray query strings with 400, no key with 401", async () => {
    const missing = await api.get(`/api/v1/nodes/${crypto.randomUUID()}`);
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe("not_found");
    expect(missing.body.meta.request_id).toEqual(expect.any(String));
    for (const bad of ["not-a-uuid", "123", `${nodeId}x`]) {
      const res = await api.get(`/api/v1/nodes/${bad}`);
      expect(res.status, bad).toBe(400);
      expect(res.body.error.code).toBe("bad_request");
      expect(Object.keys(res.body.error.details)).toContain("id");
    }
    const q = await api.get(`/api/v1/nodes/${nodeId}?verbose=1`);
    expect(q.status).toBe(400);
    expect(Object.keys(q.body.error.details)).toContain("verbose");
    expect((await api.fetch(`/api/v1/nodes/${nodeId}`, { auth: null })).status).toBe(401);
  });

  it("toggles self_update_enabled", async () => {
    const off = await api.patch(`/api/v1/nodes/${nodeId}`, { self_update_enabled: false });
    expect(off.status).toBe(200);
    expect(Object.keys(off.body).sort()).toEqual(["data", "meta"]);
    expect(off.body.data.self_update_enabled).toBe(false);
    expect(off.body.data.id).toBe(nodeId);
    expect(Date.parse(off.body.data.updated_at)).toBeGreaterThanOrEqual(Date.parse(enrolled.updated_at));
    expect((await api.get(`/api/v1/nodes/${nodeId}`)).body.data.self_update_enabled).toBe(false);
    const on = await api.patch(`/api/v1/nodes/${nodeId}`, { self_update_enabled: true });
    expect(on.body.data.self_update_enabled).toBe(true);
  });

  it("accepts an empty body and changes nothing", async () => {
    const before = (await api.get(`/api/v1/nodes/${nodeId}`)).body.data;
    const res = await api.patch(`/api/v1/nodes/${nodeId}`, {});
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual(before);
  });

  it.each([
    [{ self_update_enabled: "yes" }, "self_update_enabled"],
    [{ self_update_enabled: 1 }, "self_update_enabled"],
    [{ self_update_enabled: null }, "self_update_enabled"],
    [{ extra: true }, "extra"],
    [{ status: "healthy" }, "status"],
    [{ cluster_name: "elsewhere" }, "cluster_name"],
  ])("rejects %j with 422 naming %s", async (body, field) => {
    const res = await api.patch(`/api/v1/nodes/${nodeId}`, body);
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe("validation_failed");
    expect(Object.keys(res.body.error.details)).toContain(field);
  });

  it("answers PATCH on unknown ids with 404 and malformed ids with 400", async () => {
    const missing = await api.patch(`/api/v1/nodes/${crypto.randomUUID()}`, { self_update_enabled: false });
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe("not_found");
    const bad = await api.patch("/api/v1/nodes/nope", { self_update_enabled: false });
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.body.error.details)).toContain("id");
  });
});

describe("DELETE /api/v1/nodes/{id}", () => {
  const C = `${P}-del`;
  beforeAll(async () => {
    await makeCluster(C);
  });

  it("deletes the node and its aliases and closes its agent with 4002", async () => {
    const { nodeId, token } = await enrolNode(api, C);
    const keeper = await enrolNode(api, C);
    const aliasIds: string[] = [];
    for (const name of ["doomed-a", "doomed-b"]) {
      const res = await api.post(`/api/v1/nodes/${nodeId}/aliases`, { name });
      expect(res.status).toBe(201);
      aliasIds.push(res.body.data.id);
    }
    const kept = (await api.post(`/api/v1/nodes/${keeper.nodeId}/aliases`, { name: "kept" })).body.data;
    const agent = await connectAgent(api, token);
    agent.hello();
    await agent.next("config");

    const res = await api.fetch(`/api/v1/nodes/${nodeId}`, { method: "DELETE" });
    expect(res.status).toBe(204);
    expect(await res.text()).toBe("");
    expect((await agent.waitClosed()).code).toBe(CLOSE_CODES.nodeDeleted);

    const gone = await api.get(`/api/v1/nodes/${nodeId}`);
    expect(gone.status).toBe(404);
    expect(gone.body.error.code).toBe("not_found");
    for (const id of aliasIds) expect((await api.get(`/api/v1/aliases/${id}`)).status).toBe(404);
    expect((await api.get(`/api/v1/aliases?node_id=${nodeId}`)).body.data).toEqual([]);
    expect((await api.get(`/api/v1/aliases/${kept.id}`)).status).toBe(200);
    expect((await api.get(`/api/v1/nodes/${keeper.nodeId}`)).status).toBe(200);
    expect((await api.del(`/api/v1/nodes/${nodeId}`)).status).toBe(404);
    // The alias names are free again in the cluster.
    expect((await api.post(`/api/v1/nodes/${keeper.nodeId}/aliases`, { name: "doomed-a" })).status).toBe(201);
  });

  it("deletes a node that never connected", async () => {
    const { nodeId } = await enrolNode(api, C);
    expect((await api.del(`/api/v1/nodes/${nodeId}`)).status).toBe(204);
    expect((await api.get(`/api/v1/nodes/${nodeId}`)).status).toBe(404);
  });

  it("answers unknown ids with 404, malformed ids with 400, no key with 401", async () => {
    const missing = await api.del(`/api/v1/nodes/${crypto.randomUUID()}`);
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe("not_found");
    const bad = await api.del("/api/v1/nodes/not-a-uuid");
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.body.error.details)).toContain("id");
    const anon = await api.fetch(`/api/v1/nodes/${crypto.randomUUID()}`, { method: "DELETE", auth: null });
    expect(anon.status).toBe(401);
  });
});

describe("PATCH /api/v1/nodes/{id}/change_cluster", () => {
  const SRC = `${P}-src`;
  const DST = `${P}-dst`;
  const ONE = `${P}-one`;

  beforeAll(async () => {
    await makeCluster(SRC);
    await makeCluster(DST);
    await makeCluster(ONE, { node_limit: 1 });
    await enrolNode(api, ONE);
  });

  it("moves the node, its address, hostname and aliases, tells its agent and records the event", async () => {
    const { nodeId, token, node: before } = await enrolNode(api, SRC);
    const alias = (await api.post(`/api/v1/nodes/${nodeId}/aliases`, { name: "mover" })).body.data;
    const agent = await connectAgent(api, token);
    agent.hello();
    expect((await agent.next("config")).cluster_name).toBe(SRC);

    const res = await api.patch(`/api/v1/nodes/${nodeId}/change_cluster`, { cluster_name: DST });
    expect(res.status).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(["data", "meta"]);
    expect(Object.keys(res.body.data).sort()).toEqual(NODE_FIELDS);
    const moved = res.body.data;
    expect(moved).toMatchObject({
      id: nodeId,
      cluster_name: DST,
      node_name: before.node_name,
      api_token: before.api_token,
      vpn_hostname: `node-${nodeId}.${clusters[DST].vpn_domain}`,
    });
    expect(inRange(moved.ipv4_address, clusters[DST].ipv4_range)).toBe(true);
    expect(inRange(moved.ipv4_address, clusters[SRC].ipv4_range)).toBe(false);
    expect((await api.get(`/api/v1/nodes/${nodeId}`)).body.data).toMatchObject({
      cluster_name: DST,
      ipv4_address: moved.ipv4_address,
    });

    const config = await agent.until(
      () => agent.frames.find((f: any) => f.type === "config" && f.cluster_name === DST) as any,
      "a config frame for the new cluster",
    );
    expect(config).toMatchObject({ node_id: nodeId, cluster_name: DST });

    expect(await eventsFor(nodeId, "edge.node.cluster_changed")).toEqual([
      expect.objectContaining({ node_id: nodeId, from: SRC, to: DST }),
    ]);
    const movedAlias = (await api.get(`/api/v1/aliases/${alias.id}`)).body.data;
    expect(movedAlias).toMatchObject({
      cluster_name: DST,
      vpn_hostname: `mover.${clusters[DST].vpn_domain}`,
    });
    const counts = Object.fromEntries(
      await Promise.all(
        [SRC, DST].map(async (c) => [c, (await api.get(`/api/v1/clusters/${c}`)).body.data.node_count]),
      ),
    );
    expect(counts[DST]).toBeGreaterThanOrEqual(1);
    agent.ws.close(1000);
  });

  it("moves a node whose agent is offline", async () => {
    const { nodeId } = await enrolNode(api, SRC);
    const res = await api.patch(`/api/v1/nodes/${nodeId}/change_cluster`, { cluster_name: DST });
    expect(res.status).toBe(200);
    expect(res.body.data.cluster_name).toBe(DST);
  });

  it("refuses with 409 when an alias name clashes in the target, changing nothing", async () => {
    const { nodeId, node: before } = await enrolNode(api, SRC);
    const other = await enrolNode(api, DST);
    const mine = (await api.post(`/api/v1/nodes/${nodeId}/aliases`, { name: "clash" })).body.data;
    expect((await api.post(`/api/v1/nodes/${other.nodeId}/aliases`, { name: "clash" })).status).toBe(201);
    const res = await api.patch(`/api/v1/nodes/${nodeId}/change_cluster`, { cluster_name: DST });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe("conflict");
    const after = (await api.get(`/api/v1/nodes/${nodeId}`)).body.data;
    expect(after).toMatchObject({
      cluster_name: SRC,
      ipv4_address: before.ipv4_address,
      vpn_hostname: before.vpn_hostname,
      updated_at: before.updated_at,
    });
    expect((await api.get(`/api/v1/aliases/${mine.id}`)).body.data).toEqual(mine);
    expect(await eventsFor(nodeId, "edge.node.cluster_changed")).toEqual([]);
  });

  it("refuses with 409 when the target is at its node_limit", async () => {
    const { nodeId } = await enrolNode(api, SRC);
    const res = await api.patch(`/api/v1/nodes/${nodeId}/change_cluster`, { cluster_name: ONE });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe("conflict");
    expect((await api.get(`/api/v1/nodes/${nodeId}`)).body.data.cluster_name).toBe(SRC);
    expect((await api.get(`/api/v1/clusters/${ONE}`)).body.data.node_count).toBe(1);
  });

  it("answers an unknown target or node with 404 and the same cluster with 422", async () => {
    const { nodeId } = await enrolNode(api, SRC);
    const unknown = await api.patch(`/api/v1/nodes/${nodeId}/change_cluster`, {
      cluster_name: `${P}-nowhere`,
    });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe("not_found");
    const missing = await api.patch(`/api/v1/nodes/${crypto.randomUUID()}/change_cluster`, {
      cluster_name: DST,
    });
    expect(missing.status).toBe(404);
    const same = await api.patch(`/api/v1/nodes/${nodeId}/change_cluster`, { cluster_name: SRC });
    expect(same.status).toBe(422);
    expect(same.body.error.code).toBe("validation_failed");
    expect(Object.keys(same.body.error.details)).toContain("cluster_name");
  });

  it.each([
    [{}, "cluster_name"],
    [{ cluster_name: "" }, "cluster_name"],
    [{ cluster_name: "Bad_Name" }, "cluster_name"],
    [{ cluster_name: "-lead" }, "cluster_name"],
    [{ cluster_name: "a".repeat(25) }, "cluster_name"],
    [{ cluster_name: 5 }, "cluster_name"],
    [{ cluster_name: null }, "cluster_name"],
    [{ cluster_name: "ok", extra: 1 }, "extra"],
  ])("rejects %j with 422 naming %s", async (body, field) => {
    const res = await api.patch(`/api/v1/nodes/${crypto.randomUUID()}/change_cluster`, body);
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe("validation_failed");
    expect(Object.keys(res.body.error.details)).toContain(field);
  });

  it("answers a malformed node id with 400", async () => {
    const res = await api.patch("/api/v1/nodes/nope/change_cluster", { cluster_name: DST });
    expect(res.status).toBe(400);
    expect(Object.keys(res.body.error.details)).toContain("id");
  });
});

describe("node metrics", () => {
  const C = `${P}-met`;
  const paths = ["metrics", "metrics/host", "metrics/agent"];
  beforeAll(async () => {
    await makeCluster(C);
  });

  it("answers 503 service_unavailable for a node that never reported", async () => {
    const { nodeId } = await enrolNode(api, C);
    for (const p of paths) {
      const res = await api.get(`/api/v1/nodes/${nodeId}/${p}`);
      expect(res.status, p).toBe(503);
      expect(res.body.error.code).toBe("service_unavailable");
      expect(res.body.meta.request_id).toEqual(expect.any(String));
    }
  });

  it("answers 404 for an unknown node and 400 for a malformed id", async () => {
    for (const p of paths) {
      const missing = await api.get(`/api/v1/nodes/${crypto.randomUUID()}/${p}`);
      expect(missing.status, p).toBe(404);
      expect(missing.body.error.code).toBe("not_found");
      const bad = await api.get(`/api/v1/nodes/nope/${p}`);
      expect(bad.status, p).toBe(400);
      expect(Object.keys(bad.body.error.details)).toContain("node_id");
    }
  });

  it("serves metrics once the node has sent a heartbeat", async () => {
    const { nodeId, token } = await enrolNode(api, C);
    const agent = await connectAgent(api, token);
    agent.hello();
    await agent.next("config");
    agent.heartbeat();
    await eventually(async () => {
      const res = await api.get(`/api/v1/nodes/${nodeId}/metrics`);
      expect(res.status).toBe(200);
      expect(res.body.data).toMatchObject({ node_id: nodeId, cluster_name: C });
    });
    agent.ws.close(1000);
  });
});
