import { beforeAll, describe, expect, it } from "vitest";
import { createTestApi, type TestApi } from "./harness";

let api: TestApi;

beforeAll(async () => {
  api = await createTestApi();
});

describe("alert rules", () => {
  it("creates with defaults, reads, lists, updates and deletes a rule", async () => {
    const created = await api.post("/api/v1/alert_rules", {
      name: "disk filling",
      metric: "disk",
      warning_threshold: 80,
      critical_threshold: 90,
    });
    expect(created.status).toBe(201);
    const rule = created.body.data;
    expect(rule).toMatchObject({
      name: "disk filling",
      metric: "disk",
      operator: "gt",
      for_seconds: 60,
      targeting: { type: "all" },
      enabled: true,
      channel_ids: [],
      repeat_interval_seconds: 3600,
    });
    expect((await api.get(`/api/v1/alert_rules/${rule.id}`)).body.data).toEqual(rule);

    const list = (await api.get("/api/v1/alert_rules?metric=disk&enabled=true")).body;
    expect(list.data.map((r: { id: string }) => r.id)).toContain(rule.id);

    const patched = await api.patch(`/api/v1/alert_rules/${rule.id}`, {
      warning_threshold: 70,
      enabled: false,
    });
    expect(patched.status).toBe(200);
    expect(patched.body.data).toMatchObject({
      warning_threshold: 70,
      critical_threshold: 90,
      enabled: false,
    });

    expect((await api.del(`/api/v1/alert_rules/${rule.id}`)).status).toBe(204);
    expect((await api.get(`/api/v1/alert_rules/${rule.id}`)).status).toBe(404);
  });

  it("refuses bad rules with field details", async () => {
    const bad = await api.post("/api/v1/alert_rules", {
      name: "",
      metric: "bogus",
      warning_threshold: "high",
    });
    expect(bad.status).toBe(422);
    expect(Object.keys(bad.body.error.details)).toEqual(
      expect.arrayContaining(["name", "metric", "warning_threshold"]),
    );

    const unordered = await api.post("/api/v1/alert_rules", {
      name: "low memory",
      metric: "memory",
      operator: "lt",
      warning_threshold: 10,
      critical_threshold: 20,
    });
    expect(unordered.status).toBe(422);
    expect(unordered.body.error.details.critical_threshold).toBeDefined();

    const rule = (
      await api.post("/api/v1/alert_rules", {
        name: "cpu",
        metric: "cpu",
        warning_threshold: 80,
        critical_threshold: 95,
      })
    ).body.data;
    const patch = await api.patch(`/api/v1/alert_rules/${rule.id}`, { warning_threshold: 99 });
    expect(patch.status).toBe(422);
    expect(patch.body.error.details.critical_threshold).toBeDefined();
    expect((await api.get("/api/v1/alert_rules?metric=nope")).status).toBe(400);
    expect((await api.patch(`/api/v1/alert_rules/${crypto.randomUUID()}`, { enabled: true })).status).toBe(
      404,
    );
  });
});

describe("the alert events in the catalog", () => {
  it("lists edge.alert.fired, escalated, resolved and acknowledged in /event_types and the AsyncAPI document", async () => {
    const alertEvents = ["fired", "escalated", "resolved", "acknowledged"].map((t) => `edge.alert.${t}`);
    const types = await api.get("/api/v1/event_types");
    expect(types.status).toBe(200);
    expect(JSON.stringify(types.body)).toContain("edge.alert.acknowledged");
    const res = await api.fetch("/api/v1/asyncapi.json", { auth: null });
    const doc = await res.json<any>();
    for (const type of alertEvents) {
      const data = doc.components.messages[type]?.payload.properties.data;
      expect(data, type).toBeDefined();
      expect(Object.keys(data.properties)).toEqual(
        expect.arrayContaining(["alert_id", "rule_id", "node_id", "metric", "level", "value", "threshold"]),
      );
      expect(JSON.stringify(types.body)).toContain(type);
    }
  });
});
