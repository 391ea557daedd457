import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import type { NodeSession } from "../../durable-objects/node-session";
import { createDatabase } from "../../src/db/client";
import { alerts, nodeUpdates } from "../../src/db/schema";
import { connectAgent, enrolNode } from "./agent-session";
import { createTestApi, eventually, type TestApi } from "./harness";

// The inventory's `updates` section as alert metrics: `security_updates_pending` and
// `reboot_required`, kept by the node's session and evaluated with every heartbeat.

let api: TestApi;
let db: ReturnType<typeof createDatabase>;
const CLUSTER = `aum-${crypto.randomUUID().slice(0, 8)}`;
const hash = (ch: string) => ch.repeat(64);

function updates(security: number, reboot: boolean) {
  return {
    package_manager: "apt",
    pending: [],
    pending_count: security + 1,
    security_count: security,
    reboot_required: reboot,
    reboot_required_packages: reboot ? ["linux-image-6.1.0-31-amd64"] : [],
    checked_at: "2026-12-05T10:00:00.000Z",
    cache_age_seconds: null,
  };
}

function stubFor(nodeId: string) {
  const ns = (env as any).NODE_SESSION as DurableObjectNamespace<NodeSession>;
  return ns.get(ns.idFromName(nodeId));
}

async function rulesFor(nodeId: string): Promise<Record<string, string>> {
  const ids: Record<string, string> = {};
  for (const [metric, warning] of [
    ["security_updates_pending", 0],
    ["reboot_required", 0.5],
  ] as const) {
    const res = await api.post("/api/v1/alert_rules", {
      name: `${metric} ${nodeId.slice(0, 8)}`,
      metric,
      warning_threshold: warning,
      for_seconds: 0,
      targeting: { type: "nodes", node_ids: [nodeId] },
    });
    expect(res.status).toBe(201);
    ids[metric] = res.body.data.id;
  }
  return ids;
}

async function helloWithInventory(token: string) {
  const agent = await connectAgent(api, token);
  agent.send({
    type: "hello",
    agent_version: "1.3.0",
    hostname: "host-aum",
    platform: "linux",
    capabilities: ["exec", "inventory.v1"],
    heartbeat_interval_seconds: 15,
  });
  await agent.next("config");
  await agent.next("inventory_request");
  return agent;
}

const alertsOf = (nodeId: string) => db.select().from(alerts).where(eq(alerts.nodeId, nodeId));

beforeAll(async () => {
  api = await createTestApi({}, { sharedDatabase: true });
  db = createDatabase({ url: api.env.LIBSQL_URL ?? "" });
  await api.post("/api/v1/clusters", { name: CLUSTER });
});

describe("alert rules on the inventory's pending updates", () => {
  it("fires from a reported updates section on the next heartbeat and resolves when it clears", async () => {
    const { nodeId, token } = await enrolNode(api, CLUSTER);
    const ruleIds = await rulesFor(nodeId);
    const agent = await helloWithInventory(token);
    // No updates section yet: neither metric has a value, nothing fires.
    agent.heartbeat();
    await eventually(async () => expect((await stubFor(nodeId).state()).samples).toBe(1));
    expect(await alertsOf(nodeId)).toHaveLength(0);

    const report = (data: object, contentHash: string) => {
      agent.send({
        type: "inventory",
        section: "updates",
        status: "ok",
        content_hash: contentHash,
        collected_at: Date.now(),
        data: data as Record<string, unknown>,
      });
      return agent.until(
        () => agent.frames.find((f) => f.type === "inventory_ack" && f.content_hash === contentHash),
        "the updates ack",
      );
    };
    await report(updates(3, true), hash("a"));
    agent.heartbeat();
    await eventually(async () => {
      const rows = await alertsOf(nodeId);
      expect(rows).toHaveLength(2);
      expect(rows.find((r) => r.ruleId === ruleIds.security_updates_pending)).toMatchObject({
        metric: "security_updates_pending",
        value: 3,
        status: "firing",
      });
      expect(rows.find((r) => r.ruleId === ruleIds.reboot_required)).toMatchObject({
        metric: "reboot_required",
        value: 1,
        status: "firing",
      });
    });

    // Patched and rebooted: the next report clears both, and the next heartbeat resolves them.
    await report(updates(0, false), hash("b"));
    agent.heartbeat();
    await eventually(async () => {
      const rows = await alertsOf(nodeId);
      expect(rows.map((r) => r.status).sort()).toEqual(["resolved", "resolved"]);
    });
    const list = await api.get(`/api/v1/alerts?node_id=${nodeId}&metric=reboot_required`);
    expect(list.status).toBe(200);
    expect(list.body.data).toHaveLength(1);
  });

  it("reads the facts libSQL holds at hello, so an unchanged section (never resent) still counts", async () => {
    const { nodeId, token } = await enrolNode(api, CLUSTER);
    await rulesFor(nodeId);
    // As if reported before this session existed (a restore, an evicted object's lost storage).
    await db.insert(nodeUpdates).values({
      nodeId,
      packageManager: "apt",
      pendingCount: 5,
      securityCount: 4,
      rebootRequired: false,
      checkedAt: Date.now(),
    });
    const agent = await helloWithInventory(token);
    agent.heartbeat();
    await eventually(async () => {
      const rows = await alertsOf(nodeId);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ metric: "security_updates_pending", value: 4, status: "firing" });
    });
    const facts = await runInDurableObject(stubFor(nodeId), (instance: NodeSession) =>
      instance.store.get("updates_facts"),
    );
    expect(facts).toEqual({ security_count: 4, reboot_required: false });
  });
});
