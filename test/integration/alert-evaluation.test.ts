import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import type { NodeSession } from "../../durable-objects/node-session";
import { createDatabase } from "../../src/db/client";
import { alerts, events } from "../../src/db/schema";
import { connectAgent, enrolNode } from "./agent-session";
import { createTestApi, eventually, type TestApi } from "./harness";

let api: TestApi;
let db: ReturnType<typeof createDatabase>;
const CLUSTER = `ae-${crypto.randomUUID().slice(0, 8)}`;

function stubFor(nodeId: string) {
  const ns = (env as any).NODE_SESSION as DurableObjectNamespace<NodeSession>;
  return ns.get(ns.idFromName(nodeId));
}

// The session caches rules for a minute; tests make it forget so a rule change applies at once.
async function forgetRules(nodeId: string) {
  await runInDurableObject(stubFor(nodeId), (instance: NodeSession) => {
    instance.store.set("alert_rules", { fetchedAt: 0, rules: [] });
  });
}

async function alertEvents(alertId: string) {
  const rows = await db.select().from(events);
  return rows.filter((e) => JSON.parse(e.data).alert_id === alertId).map((e) => e.type);
}

beforeAll(async () => {
  api = await createTestApi({}, { sharedDatabase: true });
  db = createDatabase({ url: api.env.LIBSQL_URL ?? "" });
  await api.post("/api/v1/clusters", {
    name: CLUSTER,
    ipv4_range: `10.${Math.floor(Math.random() * 200) + 20}.0.0/24`,
  });
});

describe("alert evaluation in the node's session", () => {
  it("fires with its event, stays quiet in a steady state, escalates, and resolves when the threshold rises", async () => {
    const { nodeId, token } = await enrolNode(api, CLUSTER);
    const agent = await connectAgent(api, token);
    agent.hello();
    await agent.next("config");
    // The test agent reports memory at 25 % used.
    const rule = (
      await api.post("/api/v1/alert_rules", {
        name: "memory",
        metric: "memory",
        warning_threshold: 20,
        critical_threshold: 90,
        for_seconds: 0,
        targeting: { type: "nodes", node_ids: [nodeId] },
      })
    ).body.data;
    await forgetRules(nodeId);

    agent.heartbeat();
    let alertId = "";
    await eventually(async () => {
      const rows = await db.select().from(alerts).where(eq(alerts.nodeId, nodeId));
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({
        ruleId: rule.id,
        status: "firing",
        level: "warning",
        value: 25,
        threshold: 20,
      });
      alertId = rows[0].id;
    });
    expect(await alertEvents(alertId)).toEqual(["edge.alert.fired"]);

    // Steady state: more heartbeats, no new rows or events.
    const before = (await db.select().from(alerts)).length;
    agent.heartbeat();
    agent.heartbeat();
    await eventually(async () => {
      const { samples } = await stubFor(nodeId).state();
      expect(samples).toBe(3);
    });
    expect((await db.select().from(alerts)).length).toBe(before);
    expect(await alertEvents(alertId)).toEqual(["edge.alert.fired"]);

    // Critical threshold lowered below the value: escalation.
    await api.patch(`/api/v1/alert_rules/${rule.id}`, { critical_threshold: 24 });
    await forgetRules(nodeId);
    agent.heartbeat();
    await eventually(async () => {
      const [row] = await db.select().from(alerts).where(eq(alerts.id, alertId));
      expect(row.level).toBe("critical");
    });

    // Thresholds raised above the value: resolved.
    await api.patch(`/api/v1/alert_rules/${rule.id}`, { warning_threshold: 50, critical_threshold: 90 });
    await forgetRules(nodeId);
    agent.heartbeat();
    await eventually(async () => {
      const [row] = await db.select().from(alerts).where(eq(alerts.id, alertId));
      expect(row.status).toBe("resolved");
      expect(row.resolvedAt).not.toBeNull();
    });
    expect(await alertEvents(alertId)).toEqual([
      "edge.alert.fired",
      "edge.alert.escalated",
      "edge.alert.resolved",
    ]);

    // The API: list with filters, get, acknowledge (with its event) and take it back.
    const listed = (await api.get(`/api/v1/alerts?node_id=${nodeId}&status=resolved&acknowledged=false`))
      .body;
    expect(listed.data.map((a: { id: string }) => a.id)).toEqual([alertId]);
    expect(listed.data[0]).toMatchObject({
      level: "critical",
      peak_value: 25,
      metric: "memory",
      rule_id: rule.id,
    });
    const acked = await api.patch(`/api/v1/alerts/${alertId}/acknowledge`);
    expect(acked.status).toBe(200);
    expect(acked.body.data.acknowledged).toBe(true);
    await api.patch(`/api/v1/alerts/${alertId}/acknowledge`);
    expect((await alertEvents(alertId)).filter((t) => t === "edge.alert.acknowledged")).toHaveLength(1);
    expect((await api.patch(`/api/v1/alerts/${alertId}/unacknowledge`)).body.data.acknowledged_at).toBeNull();
    expect((await api.get(`/api/v1/alerts/${crypto.randomUUID()}`)).status).toBe(404);
    expect((await api.get("/api/v1/alerts?level=severe")).status).toBe(400);
    agent.ws.close(1000);
  });
});
