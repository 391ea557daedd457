import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { splitText } from "../../src/protocol/inventory-chunks";
import { connectAgent, enrolNode } from "./agent-session";
import { eventually } from "./harness";
import { api, db, makeCluster, P, setUpNodes, startNodesFile } from "./nodes-fixture";

startNodesFile();

// Host inventory through a real NodeSession: a WebSocket agent reports sections, the REST routes read
// them back, the node list filters on them, and an unchanged report writes nothing.
beforeAll(setUpNodes);

const hash = (ch: string) => ch.repeat(64);

const SOFTWARE = {
  package_manager: "dpkg",
  packages: [
    {
      name: "bash",
      version: "5.2.15-2+b7",
      architecture: "amd64",
      status: "installed",
      description: "GNU Bourne Again SHell",
      installed_at: "2025-05-20T10:00:00.000Z",
    },
    {
      name: "libssl3",
      version: "3.0.15-1~deb12u1",
      architecture: "amd64",
      status: "installed",
      description: "Secure Sockets Layer toolkit",
      installed_at: null,
    },
    {
      name: "openssl",
      version: "3.0.15-1~deb12u1",
      architecture: "amd64",
      status: "installed",
      description: "Secure Sockets Layer toolkit",
      installed_at: null,
    },
  ],
};

const UPDATES = {
  package_manager: "apt",
  pending: [
    {
      name: "openssl",
      current_version: "3.0.15-1~deb12u1",
      candidate_version: "3.0.16-1~deb12u1",
      security: true,
      source: "Debian-Security:12/stable-security",
    },
    {
      name: "tzdata",
      current_version: "2024a-0+deb12u1",
      candidate_version: "2025b-0+deb12u1",
      security: false,
      source: "Debian:12.10/stable",
    },
  ],
  pending_count: 2,
  security_count: 1,
  reboot_required: true,
  reboot_required_packages: ["linux-image-6.1.0-31-amd64"],
  checked_at: "2026-12-04T10:00:00.000Z",
  cache_age_seconds: 3600,
};

const USERS = {
  users: [
    {
      username: "root",
      uid: 0,
      gid: 0,
      home_directory: "/root",
      shell: "/bin/bash",
      login_allowed: true,
      is_system: true,
      last_login: null,
    },
  ],
  source: "/etc/passwd",
};

async function inventoryEvents(nodeId: string): Promise<number> {
  const rows = await db.all<{ n: number }>(
    sql`SELECT count(*) AS n FROM events WHERE type = 'edge.node.inventory_changed' AND json_extract(data, '$.node_id') = ${nodeId}`,
  );
  return Number(rows[0]?.n ?? 0);
}

describe("node facts and operator fields", () => {
  const C = `${P}-fa`;
  let nodeId: string;

  beforeAll(async () => {
    await makeCluster(C);
    ({ nodeId } = await enrolNode(api, C));
  });

  it("PATCH sets display name, tags (lower-cased, deduplicated), notes and custom URLs", async () => {
    const res = await api.patch(`/api/v1/nodes/${nodeId}`, {
      display_name: "Shop 12 till",
      tags: ["Web", "env:prod", "web"],
      notes: "behind the counter",
      custom_urls: [{ name: "UI", url: "https://shop12.example/ui" }],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.data).toMatchObject({
      display_name: "Shop 12 till",
      tags: ["web", "env:prod"],
      notes: "behind the counter",
      custom_urls: [{ name: "UI", url: "https://shop12.example/ui" }],
    });
    const again = await api.get(`/api/v1/nodes/${nodeId}`);
    expect(again.body.data.tags).toEqual(["web", "env:prod"]);
  });

  it("refuses bad operator fields with 422 and a detail per field", async () => {
    const res = await api.patch(`/api/v1/nodes/${nodeId}`, {
      display_name: "x".repeat(129),
      tags: ["ok", "-bad", "sp ace"],
      custom_urls: [{ name: "ftp", url: "ftp://example.com/" }],
      notes: "n".repeat(10_001),
    });
    expect(res.status).toBe(422);
    expect(Object.keys(res.body.error.details).sort()).toEqual(
      expect.arrayContaining(["custom_urls.0.url", "display_name", "notes", "tags.1", "tags.2"]),
    );
    const tooMany = await api.patch(`/api/v1/nodes/${nodeId}`, {
      tags: Array.from({ length: 51 }, (_, i) => `t${i}`),
    });
    expect(tooMany.status).toBe(422);
    expect(tooMany.body.error.details.tags).toBeDefined();
  });

  it("filters the node list by tags (all must match), hostname and display name", async () => {
    const { nodeId: other } = await enrolNode(api, C);
    await api.patch(`/api/v1/nodes/${other}`, { tags: ["web"] });
    const both = await api.get(`/api/v1/nodes?cluster_name=${C}&tags=web,env:prod`);
    expect(both.body.data.map((n: { id: string }) => n.id)).toEqual([nodeId]);
    const web = await api.get(`/api/v1/nodes?cluster_name=${C}&tags=WEB`);
    expect(web.body.data).toHaveLength(2);
    const named = await api.get(`/api/v1/nodes?cluster_name=${C}&display_name=Shop*`);
    expect(named.body.data.map((n: { id: string }) => n.id)).toEqual([nodeId]);
    const host = await api.get(`/api/v1/nodes?cluster_name=${C}&hostname=host-*`);
    expect(host.body.data).toHaveLength(2);
    const bad = await api.get(`/api/v1/nodes?tags=Not%20A%20Tag`);
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.tags).toBeDefined();
  });

  it("stores the facts of a hello and filters on them", async () => {
    const { nodeId: id, token } = await enrolNode(api, C);
    const agent = await connectAgent(api, token);
    agent.send({
      type: "hello",
      agent_version: "1.2.3",
      hostname: "till-7",
      platform: "linux",
      arch: "arm64",
      os_version: "Ubuntu 22.04.4 LTS",
      kernel: "5.15.0-105-generic",
      primary_ip: "192.168.1.23",
      boot_id: "0f2c7b4e-4c6a-4b7e-9d8e-1a2b3c4d5e6f",
      capabilities: ["inventory.v1"],
      heartbeat_interval_seconds: 15,
    });
    await agent.next("config");
    const res = await api.get(`/api/v1/nodes/${id}`);
    expect(res.body.data).toMatchObject({
      hostname: "till-7",
      arch: "arm64",
      os_version: "Ubuntu 22.04.4 LTS",
      kernel: "5.15.0-105-generic",
      primary_ip: "192.168.1.23",
      boot_id: "0f2c7b4e-4c6a-4b7e-9d8e-1a2b3c4d5e6f",
    });
    const ubuntu = await api.get(`/api/v1/nodes?cluster_name=${C}&os_version=Ubuntu%2022.04*&arch=arm*`);
    expect(ubuntu.body.data.map((n: { id: string }) => n.id)).toEqual([id]);
    agent.ws.close();
  });

  it("targets commands by node_filters.tags and hostname", async () => {
    const res = await api.post("/api/v1/inventory_refresh_requests", {
      targeting: { type: "clusters", cluster_names: [C], node_filters: { tags: "web,env:prod" } },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    expect(res.body.data.summary).toMatchObject({ total: 1, offline: 1 });
    const byHost = await api.post("/api/v1/inventory_refresh_requests", {
      targeting: { type: "all", node_filters: { hostname: "till-*", cluster_name: C } },
    });
    expect(byHost.body.data.summary.total).toBe(1);
    const bad = await api.post("/api/v1/inventory_refresh_requests", {
      targeting: { type: "all", node_filters: { tags: "UPPER CASE" } },
    });
    expect(bad.status).toBe(422);
  });
});

describe("fleet summary", () => {
  it("counts the filtered nodes by status, version, platform and cluster", async () => {
    const A = `${P}-sa`;
    const B = `${P}-sb`;
    await makeCluster(A);
    await makeCluster(B);
    const ids = [];
    for (const cluster of [A, A, B]) ids.push((await enrolNode(api, cluster)).nodeId);
    await db.run(sql`UPDATE nodes SET status = 'healthy', version = '2.0.0' WHERE id = ${ids[0]}`);
    await db.run(sql`UPDATE nodes SET status = 'unhealthy', version = '2.0.0' WHERE id = ${ids[1]}`);
    const res = await api.get(`/api/v1/nodes/summary?cluster_name=${P}-s*`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.data).toMatchObject({
      total: 3,
      by_status: { healthy: 1, unhealthy: 1, unreachable: 1 },
      online: 2,
      offline: 1,
      with_errors: 1,
      pending_approval: 0,
      by_version: { "2.0.0": 2, "1.2.3": 1 },
      by_platform: { linux: 3 },
      by_cluster: { [A]: 2, [B]: 1 },
    });
    const bad = await api.get("/api/v1/nodes/summary?colour=red");
    expect(bad.status).toBe(400);
  });
});

describe("host inventory over the agent protocol", () => {
  const C = `${P}-inv`;
  let nodeId: string;
  let agent: Awaited<ReturnType<typeof connectAgent>>;

  beforeAll(async () => {
    await makeCluster(C);
    const enrolled = await enrolNode(api, C);
    nodeId = enrolled.nodeId;
    agent = await connectAgent(api, enrolled.token);
    agent.send({
      type: "hello",
      agent_version: "1.3.0",
      hostname: "host-a",
      platform: "linux",
      capabilities: ["exec", "inventory.v1"],
      heartbeat_interval_seconds: 15,
    });
    await agent.next("config");
  });

  const report = (section: string, data: unknown, contentHash: string, extra: object = {}) =>
    agent.send({
      type: "inventory",
      section: section as "software",
      status: "ok",
      content_hash: contentHash,
      collected_at: Date.parse("2026-12-04T10:00:00Z"),
      data: data as Record<string, unknown>,
      ...extra,
    });

  const acked = (section: string, contentHash: string) =>
    agent.until(
      () =>
        agent.frames.find(
          (f) => f.type === "inventory_ack" && f.section === section && f.content_hash === contentHash,
        ),
      `ack of ${section}`,
    );

  it("asks at hello for every section, with the hashes it holds", async () => {
    const ask = await agent.next("inventory_request");
    expect(ask.known_hashes).toEqual({});
    expect(ask.request_id).toBeUndefined();
    expect(ask.accepts_chunks).toBe(true);
  });

  it("stores reported sections and serves them", async () => {
    report("software", SOFTWARE, hash("a"));
    report("updates", UPDATES, hash("b"));
    report("users", USERS, hash("c"));
    agent.send({
      type: "inventory",
      section: "containers",
      status: "unavailable",
      reason: "Docker is not running on this host",
      content_hash: hash("d"),
      collected_at: Date.now(),
      data: null,
    });
    await acked("containers", hash("d"));

    const inv = await api.get(`/api/v1/nodes/${nodeId}/inventory`);
    expect(inv.status).toBe(200);
    const sections = Object.fromEntries(
      inv.body.data.sections.map((s: { section: string }) => [s.section, s]),
    );
    expect(sections.software).toMatchObject({
      status: "ok",
      content_hash: hash("a"),
      collected_at: "2026-12-04T10:00:00Z",
      data: { package_manager: "dpkg", total_packages: 3 },
    });
    expect(sections.containers).toMatchObject({
      status: "unavailable",
      reason: "Docker is not running on this host",
    });
    expect(inv.body.data.not_reported).toContain("hardware");

    const users = await api.get(`/api/v1/nodes/${nodeId}/inventory/users`);
    expect(users.body.data.data.users[0]).toMatchObject({ username: "root", uid: 0 });
    const missing = await api.get(`/api/v1/nodes/${nodeId}/inventory/hardware`);
    expect(missing.status).toBe(404);
    const unknown = await api.get(`/api/v1/nodes/${nodeId}/inventory/kitchen_sink`);
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.details.section).toBeDefined();
  });

  it("lists the node's packages with filters and pagination", async () => {
    const all = await api.get(`/api/v1/nodes/${nodeId}/software?page_size=2`);
    expect(all.status).toBe(200);
    expect(all.body.data.map((p: { name: string }) => p.name)).toEqual(["bash", "libssl3"]);
    expect(all.body.meta.pagination).toMatchObject({ total_count: 3, total_pages: 2, has_next: true });
    const ssl = await api.get(`/api/v1/nodes/${nodeId}/software?name=*ssl*&version=3.0.*`);
    expect(ssl.body.data.map((p: { name: string }) => p.name)).toEqual(["libssl3", "openssl"]);
    expect(ssl.body.data[0]).toMatchObject({ architecture: "amd64", source: "dpkg", status: "installed" });
    const bash = await api.get(`/api/v1/nodes/${nodeId}/software?name=bash`);
    expect(bash.body.data[0].installed_at).toBe("2025-05-20T10:00:00Z");
    const bad = await api.get(`/api/v1/nodes/${nodeId}/software?page_size=500`);
    expect(bad.status).toBe(400);
    const noNode = await api.get(`/api/v1/nodes/${crypto.randomUUID()}/software`);
    expect(noNode.status).toBe(404);
  });

  it("searches the fleet's software and filters nodes by package", async () => {
    const fleet = await api.get(`/api/v1/software?name=openssl&version=3.0.*`);
    expect(fleet.status).toBe(200);
    const row = fleet.body.data.find((r: { version: string }) => r.version === "3.0.15-1~deb12u1");
    expect(row).toMatchObject({ name: "openssl", architectures: ["amd64"] });
    expect(row.node_count).toBeGreaterThanOrEqual(1);

    const ids = async (query: string) =>
      (await api.get(`/api/v1/nodes?cluster_name=${C}&${query}`)).body.data.map((n: { id: string }) => n.id);
    expect(await ids("package=openssl")).toEqual([nodeId]);
    expect(await ids("package=openssl&package_version=3.0.15-1~deb12u1")).toEqual([nodeId]);
    // bash exists and some package has version 3.0.15…, but not bash at that version: one row must match both.
    expect(await ids("package=bash&package_version=3.0.15-1~deb12u1")).toEqual([]);
    expect(await ids("package_version=5.2.*")).toEqual([nodeId]);
    expect(await ids("package=nginx")).toEqual([]);
  });

  it("serves pending updates, their summary and the update filters", async () => {
    const res = await api.get(`/api/v1/nodes/${nodeId}/updates`);
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({
      status: "ok",
      updates: { pending_count: 2, security_count: 1, reboot_required: true },
    });
    expect(res.body.data.updates.pending[0]).toMatchObject({ name: "openssl", security: true });

    const summary = await api.get(`/api/v1/updates/summary?cluster_name=${C}`);
    expect(summary.body.data).toMatchObject({
      nodes: 1,
      nodes_reporting: 1,
      nodes_with_updates: 1,
      nodes_with_security_updates: 1,
      pending_updates: 2,
      security_updates: 1,
      reboot_required: 1,
    });
    const ids = async (query: string) =>
      (await api.get(`/api/v1/nodes?cluster_name=${C}&${query}`)).body.data.map((n: { id: string }) => n.id);
    expect(await ids("pending_updates__gte=2")).toEqual([nodeId]);
    expect(await ids("pending_updates__gte=3")).toEqual([]);
    expect(await ids("security_updates__gte=1&reboot_required=true")).toEqual([nodeId]);
    expect(await ids("reboot_required=false")).toEqual([]);
    const bad = await api.get(`/api/v1/nodes?pending_updates__gte=-1`);
    expect(bad.status).toBe(400);
  });

  it("writes nothing for an unchanged section, and replaces a changed one", async () => {
    const before = await inventoryEvents(nodeId);
    const [{ updated_at: stamp }] = await db.all<{ updated_at: number }>(
      sql`SELECT updated_at FROM node_inventory WHERE node_id = ${nodeId} AND section = 'software'`,
    );
    agent.frames.length = 0;
    report("software", SOFTWARE, hash("a"));
    await acked("software", hash("a"));
    expect(await inventoryEvents(nodeId)).toBe(before);
    const [{ updated_at: after }] = await db.all<{ updated_at: number }>(
      sql`SELECT updated_at FROM node_inventory WHERE node_id = ${nodeId} AND section = 'software'`,
    );
    expect(after).toBe(stamp);

    report("software", { ...SOFTWARE, packages: SOFTWARE.packages.slice(0, 1) }, hash("e"));
    await acked("software", hash("e"));
    expect(await inventoryEvents(nodeId)).toBe(before + 1);
    const list = await api.get(`/api/v1/nodes/${nodeId}/software`);
    expect(list.body.data.map((p: { name: string }) => p.name)).toEqual(["bash"]);
  });

  it("stores a 5,000-package section sent in slices, whatever their order, once the lost slice arrives", async () => {
    const big = {
      package_manager: "dpkg",
      packages: Array.from({ length: 5_000 }, (_, i) => ({
        name: `big-${String(i).padStart(4, "0")}`,
        version: `2.${i % 50}.0-1`,
        architecture: "amd64",
        status: "installed",
        description: `A package with a description long enough that five thousand of them pass one frame (${i})`,
        installed_at: null,
      })),
    };
    const slices = splitText(JSON.stringify(big));
    expect(slices.length).toBeGreaterThan(2);
    const chunk = (index: number) =>
      agent.send({
        type: "inventory_chunk",
        section: "software",
        content_hash: hash("9"),
        collected_at: Date.parse("2026-12-05T08:00:00Z"),
        index,
        count: slices.length,
        data: slices[index],
      });
    agent.frames.length = 0;
    const lost = 1;
    const order = [...slices.keys()].filter((i) => i !== lost).reverse();
    for (const i of order) chunk(i);
    chunk(order[0]); // a copy
    // A ping after the slices: frames are handled in order, so its pong means they are all in.
    agent.send({ type: "ping", id: "after-slices", sent_at: Date.now() });
    await agent.next("pong");
    const before = await api.get(`/api/v1/nodes/${nodeId}/inventory/software`);
    expect(before.body.data.content_hash).not.toBe(hash("9"));
    expect(agent.frames.some((f) => f.type === "inventory_ack" && f.content_hash === hash("9"))).toBe(false);
    expect(agent.frames.some((f) => f.type === "error")).toBe(false);

    chunk(lost);
    await acked("software", hash("9"));
    const section = await api.get(`/api/v1/nodes/${nodeId}/inventory/software`);
    expect(section.body.data).toMatchObject({
      content_hash: hash("9"),
      data: { package_manager: "dpkg", total_packages: 5_000 },
    });
    const page = await api.get(`/api/v1/nodes/${nodeId}/software?name=big-4999`);
    expect(page.body.data).toEqual([
      expect.objectContaining({ name: "big-4999", description: expect.stringContaining("(4999)") }),
    ]);
    const all = await api.get(`/api/v1/nodes/${nodeId}/software?page_size=1`);
    expect(all.body.meta.pagination.total_count).toBe(5_000);

    // Slices of content already stored change nothing; the last one settles it with an ack.
    const events = await inventoryEvents(nodeId);
    agent.frames.length = 0;
    for (const i of slices.keys()) chunk(i);
    await acked("software", hash("9"));
    expect(await inventoryEvents(nodeId)).toBe(events);
  });

  it("stores a users section over 1 MiB and reads it back whole", async () => {
    const users = {
      source: "/etc/passwd",
      users: Array.from({ length: 10_000 }, (_, i) => ({
        username: `user${i}`,
        uid: 10_000 + i,
        gid: 10_000 + i,
        home_directory: `/home/department-of-long-names/user${i}`,
        shell: "/usr/bin/bash",
        login_allowed: true,
        is_system: false,
        last_login: null,
      })),
    };
    const text = JSON.stringify(users);
    expect(text.length).toBeGreaterThan(1024 * 1024);
    const slices = splitText(text);
    slices.forEach((data, index) => {
      agent.send({
        type: "inventory_chunk",
        section: "users",
        content_hash: hash("8"),
        collected_at: Date.now(),
        index,
        count: slices.length,
        data,
      });
    });
    await acked("users", hash("8"));
    const res = await api.get(`/api/v1/nodes/${nodeId}/inventory/users`);
    expect(res.body.data.data.users).toHaveLength(10_000);
    expect(res.body.data.data.users[9_999]).toMatchObject({ username: "user9999", uid: 19_999 });
  });

  it("drops slices that disagree about their count, with an error frame", async () => {
    agent.frames.length = 0;
    const slice = (index: number, count: number) =>
      agent.send({
        type: "inventory_chunk",
        section: "groups",
        content_hash: hash("6"),
        collected_at: Date.now(),
        index,
        count,
        data: '{"groups":',
      });
    slice(0, 3);
    slice(1, 4);
    const error = await agent.next("error");
    expect(error).toMatchObject({ code: "invalid_frame", message: expect.stringContaining("disagree") });
    expect(agent.closed).toBeNull();
  });

  it("refuses a reassembled section that does not fit its schema, and stores nothing", async () => {
    const slices = splitText(JSON.stringify({ package_manager: "chocolatey", packages: [] }), 16);
    agent.frames.length = 0;
    slices.forEach((data, index) => {
      agent.send({
        type: "inventory_chunk",
        section: "software",
        content_hash: hash("7"),
        collected_at: Date.now(),
        index,
        count: slices.length,
        data,
      });
    });
    const error = await agent.next("error");
    expect(error).toMatchObject({ code: "invalid_frame", message: expect.stringContaining("software") });
    const section = await api.get(`/api/v1/nodes/${nodeId}/inventory/software`);
    expect(section.body.data.content_hash).toBe(hash("9"));
  });

  it("answers an invalid inventory frame with an error frame and keeps the connection", async () => {
    agent.frames.length = 0;
    agent.sendRaw(
      JSON.stringify({
        v: 1,
        type: "inventory",
        section: "software",
        status: "ok",
        content_hash: hash("f"),
        collected_at: Date.now(),
        data: { package_manager: "chocolatey", packages: [] },
      }),
    );
    const error = await agent.next("error");
    expect(error.code).toBe("invalid_frame");
    expect(agent.closed).toBeNull();
  });

  it("asks a connected agent on refresh, and a fleet refresh turns answered when it reports", async () => {
    agent.frames.length = 0;
    const res = await api.patch(`/api/v1/nodes/${nodeId}/inventory/refresh`, {
      sections: ["updates", "updates"],
      refresh_cache: true,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    expect(res.body.data).toMatchObject({ node_id: nodeId, sections: ["updates"], refresh_cache: true });
    const ask = await agent.next("inventory_request");
    expect(ask).toMatchObject({ sections: ["updates"], refresh_cache: true });
    expect(ask.known_hashes).toBeUndefined();

    const bad = await api.patch(`/api/v1/nodes/${nodeId}/inventory/refresh`, { sections: ["kitchen"] });
    expect(bad.status).toBe(422);

    agent.frames.length = 0;
    const fleet = await api.post("/api/v1/inventory_refresh_requests", {
      targeting: { type: "clusters", cluster_names: [C] },
      sections: ["users"],
    });
    expect(fleet.status, JSON.stringify(fleet.body)).toBe(202);
    expect(fleet.body.data).toMatchObject({ status: "processing", summary: { total: 1, requested: 1 } });
    const fleetAsk = await agent.next("inventory_request");
    expect(fleetAsk.request_id).toBe(fleet.body.data.id);
    // Unchanged content still answers the request.
    report("users", USERS, hash("c"), { request_id: fleetAsk.request_id });
    await acked("users", hash("c"));
    await eventually(async () => {
      const one = await api.get(`/api/v1/inventory_refresh_requests/${fleet.body.data.id}`);
      expect(one.body.data).toMatchObject({ status: "completed", summary: { total: 1, answered: 1 } });
    });
    const list = await api.get("/api/v1/inventory_refresh_requests?page_size=100");
    expect(list.body.data.map((r: { id: string }) => r.id)).toContain(fleet.body.data.id);
    expect((await api.get(`/api/v1/inventory_refresh_requests/${crypto.randomUUID()}`)).status).toBe(404);
  });

  it("asks an agent without the inventory capability for nothing: 409 on refresh, unsupported in a fleet refresh", async () => {
    const C2 = `${P}-old`;
    await makeCluster(C2);
    const old = await enrolNode(api, C2);
    const oldAgent = await connectAgent(api, old.token);
    oldAgent.hello(); // capabilities: []
    await oldAgent.next("config");
    const res = await api.patch(`/api/v1/nodes/${old.nodeId}/inventory/refresh`, {});
    expect(res.status).toBe(409);
    expect(res.body.error.details).toMatchObject({ capability: ["inventory.v1"], agent_version: ["1.2.3"] });
    const fleet = await api.post("/api/v1/inventory_refresh_requests", {
      targeting: { type: "clusters", cluster_names: [C2] },
    });
    expect(fleet.body.data.summary).toMatchObject({ total: 1, unsupported: 1, requested: 0 });
    expect(fleet.body.data.status).toBe("completed");
    expect(oldAgent.frames.some((f) => f.type === "inventory_request")).toBe(false);
    oldAgent.ws.close();
  });

  it("refuses a refresh of a node whose agent is not connected with 503", async () => {
    const { nodeId: offline } = await enrolNode(api, C);
    const res = await api.patch(`/api/v1/nodes/${offline}/inventory/refresh`, {});
    expect(res.status).toBe(503);
    expect(res.body.error.details.node_status).toEqual(["unreachable"]);
  });
});
