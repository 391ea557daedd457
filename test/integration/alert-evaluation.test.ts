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

// The session caches rules for a minute; tests make it forget so a rule change applies at once
// (no stored rules: fetched again whatever the in-memory fetch time says).
async function forgetRules(nodeId: string) {
  await runInDurableObject(stubFor(nodeId), (instance: NodeSession) => {
    instance.store.set("alert_rules", null);
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

describe("rule metrics, targeting filters and clearing", () => {
  async function connected() {
    const { nodeId, token } = await enrolNode(api, CLUSTER);
    const agent = await connectAgent(api, token);
    agent.hello();
    await agent.next("config");
    return { nodeId, token, agent };
  }
  const alertsOf = (nodeId: string) => db.select().from(alerts).where(eq(alerts.nodeId, nodeId));

  it("fires node_unreachable when the agent goes and resolves it when the agent is back", async () => {
    const { nodeId, token, agent } = await connected();
    await api.post("/api/v1/alert_rules", {
      name: "gone",
      metric: "node_unreachable",
      warning_threshold: 0.5,
      for_seconds: 0,
      targeting: { type: "nodes", node_ids: [nodeId] },
    });
    await forgetRules(nodeId);
    agent.heartbeat();
    await eventually(async () => {
      const { samples } = await stubFor(nodeId).state();
      expect(samples).toBe(1);
    });
    expect(await alertsOf(nodeId)).toHaveLength(0);
    agent.ws.close(1000);
    await eventually(async () => {
      const rows = await alertsOf(nodeId);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ metric: "node_unreachable", status: "firing", value: 1 });
    });
    const again = await connectAgent(api, token);
    again.hello();
    await again.next("config");
    again.heartbeat();
    await eventually(async () => expect((await alertsOf(nodeId))[0].status).toBe("resolved"));
    again.ws.close(1000);
  });

  it("counts failing checks (check_failing) and selects nodes by the targeting's cluster filters", async () => {
    const { nodeId, agent } = await connected();
    const base = { metric: "check_failing", warning_threshold: 0, for_seconds: 0 };
    const mine = await api.post("/api/v1/alert_rules", {
      ...base,
      name: "checks here",
      targeting: { type: "all", cluster_filters: { name: CLUSTER }, node_filters: { hostname: "host-a" } },
    });
    expect(mine.status, JSON.stringify(mine.body)).toBe(201);
    await api.post("/api/v1/alert_rules", {
      ...base,
      name: "checks elsewhere",
      targeting: { type: "all", cluster_filters: { name: `${CLUSTER}-other` } },
    });
    await forgetRules(nodeId);
    agent.heartbeat([
      { name: "disk", ok: false },
      { name: "dns", ok: false },
    ]);
    await eventually(async () => {
      const rows = await alertsOf(nodeId);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ ruleId: mine.body.data.id, metric: "check_failing", value: 2 });
    });
    agent.ws.close(1000);
  });

  it("forgets a cleared alert, so a condition that still holds starts a new one", async () => {
    const { nodeId, agent } = await connected();
    await api.post("/api/v1/alert_rules", {
      name: "load per core",
      metric: "load_per_core",
      warning_threshold: 0.1,
      for_seconds: 0,
      targeting: { type: "nodes", node_ids: [nodeId] },
    });
    await forgetRules(nodeId);
    agent.heartbeat();
    let first = "";
    await eventually(async () => {
      const rows = await alertsOf(nodeId);
      expect(rows).toHaveLength(1);
      expect(rows[0].value).toBe(0.125);
      first = rows[0].id;
    });
    expect((await api.patch(`/api/v1/alerts/${first}/clear`)).body.data.status).toBe("resolved");
    await forgetRules(nodeId);
    agent.heartbeat();
    await eventually(async () => {
      const rows = await alertsOf(nodeId);
      expect(rows).toHaveLength(2);
      expect(rows.find((r) => r.id !== first)?.status).toBe("firing");
    });
    const [cleared] = await db.select().from(alerts).where(eq(alerts.id, first));
    expect(cleared.clearedAt).not.toBeNull();
    expect((await alertEvents(first)).filter((t) => t === "edge.alert.resolved")).toHaveLength(1);
    agent.ws.close(1000);
  });
});

describe("rule changes reach the sessions at once", () => {
  it("a raised threshold resolves at the next heartbeat, and a deleted rule's alert resolves, without waiting for the rules cache", async () => {
    const { nodeId, token } = await enrolNode(api, CLUSTER);
    const agent = await connectAgent(api, token);
    agent.hello();
    await agent.next("config");
    const rule = async (name: string) =>
      (
        await api.post("/api/v1/alert_rules", {
          name,
          metric: "memory",
          warning_threshold: 20,
          for_seconds: 0,
          targeting: { type: "nodes", node_ids: [nodeId] },
        })
      ).body.data.id as string;
    const raised = await rule("raised");
    const deleted = await rule("deleted");
    const statusOf = async (ruleId: string) =>
      (await db.select().from(alerts).where(eq(alerts.ruleId, ruleId)))[0]?.status;
    await eventually(async () => {
      agent.heartbeat();
      expect(await statusOf(raised)).toBe("firing");
      expect(await statusOf(deleted)).toBe("firing");
    });
    // No forgetRules: the routes tell the node's session; its cache would hold for a minute.
    expect((await api.patch(`/api/v1/alert_rules/${raised}`, { warning_threshold: 50 })).status).toBe(200);
    expect((await api.del(`/api/v1/alert_rules/${deleted}`)).status).toBe(204);
    await eventually(async () => {
      agent.heartbeat();
      expect(await statusOf(raised)).toBe("resolved");
      expect(await statusOf(deleted)).toBe("resolved");
    });
    agent.ws.close(1000);
  });
});

describe("the rules cache across hibernation", () => {
  it("keeps the next fetch time in the connection's attachment, jittered within the minute, and drops it when told", async () => {
    const { nodeId, token } = await enrolNode(api, CLUSTER);
    const agent = await connectAgent(api, token);
    agent.hello();
    await agent.next("config");
    // A hibernated session is constructed again for about every heartbeat: a fetch time kept in
    // the instance was lost each time and every such heartbeat read the rules again (issue 23).
    const refreshAt = () =>
      runInDurableObject(stubFor(nodeId), (instance: NodeSession) =>
        [...instance.getConnections()].map(
          (c) => (c.state as { rulesRefreshAt?: number } | null)?.rulesRefreshAt,
        ),
      );
    const before = Date.now();
    await eventually(async () => {
      agent.heartbeat();
      expect((await refreshAt())[0]).toBeTypeOf("number");
    });
    const [at] = await refreshAt();
    // Between half and all of the minute: a fleet connected in one wave does not refresh in one.
    expect(at).toBeGreaterThanOrEqual(before + 30_000 - 1000);
    expect(at).toBeLessThanOrEqual(Date.now() + 60_000 + 1000);
    await stubFor(nodeId).alertRulesChanged();
    expect(await refreshAt()).toEqual([undefined]);
    agent.ws.close(1000);
  });
});
