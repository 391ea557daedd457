import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { createDatabase } from "../../src/db/client";
import { alerts, events } from "../../src/db/schema";
import { createTestApi, type TestApi } from "./harness";

// Alerts are written by node sessions; here rows go straight into this file's own database so
// every filter and action is checked against known values.
let api: TestApi;
let db: ReturnType<typeof createDatabase>;

const NODE_A = crypto.randomUUID();
const NODE_B = crypto.randomUUID();
const RULE = crypto.randomUUID();
const T0 = Date.parse("2026-06-01T00:00:00Z");

async function insertAlert(over: Partial<typeof alerts.$inferInsert> = {}) {
  const row: typeof alerts.$inferInsert = {
    id: crypto.randomUUID(),
    ruleId: RULE,
    nodeId: NODE_A,
    metric: "disk",
    level: "warning",
    status: "firing",
    value: 85,
    peakValue: 85,
    threshold: 80,
    startedAt: T0,
    updatedAt: T0,
    ...over,
  };
  await db.insert(alerts).values(row);
  return row.id;
}

async function eventTypesOf(alertId: string) {
  const rows = await db.select().from(events);
  return rows.filter((e) => JSON.parse(e.data).alert_id === alertId).map((e) => [e.type, JSON.parse(e.data)]);
}

const ids = (body: { data: { id: string }[] }) => body.data.map((a) => a.id).sort();

beforeAll(async () => {
  api = await createTestApi();
  db = createDatabase({ url: api.env.LIBSQL_URL ?? "" });
});

describe("alert history filters", () => {
  it("filters by status, level, node, rule, metric, acknowledged, cleared and time ranges, and sorts", async () => {
    const firing = await insertAlert({ level: "critical", value: 95, peakValue: 97, threshold: 90 });
    const resolved = await insertAlert({
      nodeId: NODE_B,
      metric: "cpu",
      status: "resolved",
      startedAt: T0 + 3_600_000,
      resolvedAt: T0 + 7_200_000,
      acknowledgedAt: T0 + 3_700_000,
    });
    const other = await insertAlert({
      ruleId: crypto.randomUUID(),
      metric: "memory",
      startedAt: T0 + 86_400_000,
    });
    const mine = [firing, resolved, other].sort();

    const q = async (query: string) => {
      const res = await api.get(`/api/v1/alerts?${query}`);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return ids(res.body).filter((id) => mine.includes(id));
    };
    expect(await q("status=firing")).toEqual([firing, other].sort());
    expect(await q("status=resolved")).toEqual([resolved]);
    expect(await q("level=critical")).toEqual([firing]);
    expect(await q(`node_id=${NODE_B}`)).toEqual([resolved]);
    expect(await q(`rule_id=${RULE}`)).toEqual([firing, resolved].sort());
    expect(await q("metric=memory")).toEqual([other]);
    expect(await q("acknowledged=true")).toEqual([resolved]);
    expect(await q("acknowledged=false")).toEqual([firing, other].sort());
    expect(await q("started_at__gte=2026-06-01T00:30:00Z&started_at__lte=2026-06-01T23:00:00Z")).toEqual([
      resolved,
    ]);
    expect(await q("resolved_at__lte=2026-06-01T03:00:00Z")).toEqual([resolved]);
    expect(await q("cleared=true")).toEqual([]);
    const sorted = (await api.get(`/api/v1/alerts?rule_id=${RULE}&order_by=peak_value&order_directions=desc`))
      .body.data;
    expect(sorted.map((a: { id: string }) => a.id)).toEqual([firing, resolved]);
    expect((await api.get("/api/v1/alerts?status=open")).status).toBe(400);
    expect((await api.get("/api/v1/alerts?metric=bogus")).status).toBe(400);
    expect((await api.get("/api/v1/alerts?node_id=not-a-uuid")).status).toBe(400);
  });
});

describe("alert actions", () => {
  it("clears a firing alert with a resolved event marked cleared; clearing again changes nothing", async () => {
    const id = await insertAlert({ nodeId: crypto.randomUUID() });
    const res = await api.patch(`/api/v1/alerts/${id}/clear`);
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({ status: "resolved" });
    expect(res.body.data.cleared_at).not.toBeNull();
    expect(res.body.data.resolved_at).toBe(res.body.data.cleared_at);
    await api.patch(`/api/v1/alerts/${id}/clear`);
    const evs = await eventTypesOf(id);
    expect(evs).toHaveLength(1);
    expect(evs[0][0]).toBe("edge.alert.resolved");
    expect(evs[0][1]).toMatchObject({ alert_id: id, cleared: true, metric: "disk" });
    expect((await api.patch(`/api/v1/alerts/${crypto.randomUUID()}/clear`)).status).toBe(404);
    const cleared = ids((await api.get("/api/v1/alerts?cleared=true")).body);
    expect(cleared).toContain(id);
  });

  it("bulk-acknowledges: one event per alert that changed, unknown ids reported", async () => {
    const a = await insertAlert();
    const b = await insertAlert({ acknowledgedAt: T0 });
    const missing = crypto.randomUUID();
    const res = await api.patch("/api/v1/alerts/acknowledge", { ids: [a, b, missing, a.toUpperCase()] });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.data.changed).toBe(1);
    expect(res.body.data.not_found).toEqual([missing]);
    expect(res.body.data.alerts.map((x: { id: string }) => x.id)).toEqual([a, b]);
    expect(res.body.data.alerts.every((x: { acknowledged: boolean }) => x.acknowledged)).toBe(true);
    const [rowB] = await db.select().from(alerts).where(eq(alerts.id, b));
    expect(rowB.acknowledgedAt).toBe(T0);
    expect((await eventTypesOf(a)).map(([t]) => t)).toEqual(["edge.alert.acknowledged"]);
    expect(await eventTypesOf(b)).toEqual([]);
  });

  it("bulk-clears firing alerts only", async () => {
    const firing = await insertAlert();
    const done = await insertAlert({ status: "resolved", resolvedAt: T0 + 1000 });
    const res = await api.patch("/api/v1/alerts/clear", { ids: [firing, done] });
    expect(res.status).toBe(200);
    expect(res.body.data.changed).toBe(1);
    const [rowDone] = await db.select().from(alerts).where(eq(alerts.id, done));
    expect(rowDone.resolvedAt).toBe(T0 + 1000);
    expect(rowDone.clearedAt).toBeNull();
  });

  it("refuses bad bulk bodies with field details", async () => {
    for (const body of [{}, { ids: [] }, { ids: ["nope"] }, { ids: [crypto.randomUUID()], extra: 1 }]) {
      const res = await api.patch("/api/v1/alerts/acknowledge", body);
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(res.body.error.details).toBeTruthy();
    }
    const many = Array.from({ length: 501 }, () => crypto.randomUUID());
    expect((await api.patch("/api/v1/alerts/clear", { ids: many })).body.error.details.ids).toBeTruthy();
  });

  it("keeps notes, oldest first, with their author", async () => {
    const id = await insertAlert();
    expect((await api.get(`/api/v1/alerts/${id}/notes`)).body.data).toEqual([]);
    const first = await api.post(`/api/v1/alerts/${id}/notes`, { body: "  looking into it " });
    expect(first.status).toBe(201);
    expect(first.body.data).toMatchObject({ alert_id: id, body: "looking into it", author: "API_KEY" });
    await api.post(`/api/v1/alerts/${id}/notes`, { body: "log rotation fixed" });
    const notes = (await api.get(`/api/v1/alerts/${id}/notes`)).body.data;
    expect(notes.map((n: { body: string }) => n.body)).toEqual(["looking into it", "log rotation fixed"]);
    expect((await api.post(`/api/v1/alerts/${id}/notes`, { body: " " })).status).toBe(422);
    expect((await api.post(`/api/v1/alerts/${crypto.randomUUID()}/notes`, { body: "x" })).status).toBe(404);
    expect((await api.get(`/api/v1/alerts/${crypto.randomUUID()}/notes`)).status).toBe(404);
  });

  it("deletes resolved alerts up to a time (with their notes), never firing ones", async () => {
    const old = await insertAlert({ status: "resolved", startedAt: T0 - 10_000, resolvedAt: T0 - 5_000 });
    const recent = await insertAlert({ status: "resolved", resolvedAt: T0 + 5_000 });
    const firing = await insertAlert({ startedAt: T0 - 50_000 });
    await api.post(`/api/v1/alerts/${old}/notes`, { body: "gone soon" });
    const res = await api.del(`/api/v1/alerts?resolved_at__lte=${new Date(T0).toISOString()}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.data.deleted).toBeGreaterThanOrEqual(1);
    expect((await api.get(`/api/v1/alerts/${old}`)).status).toBe(404);
    expect((await api.get(`/api/v1/alerts/${recent}`)).status).toBe(200);
    expect((await api.get(`/api/v1/alerts/${firing}`)).status).toBe(200);
    const missing = await api.del("/api/v1/alerts");
    expect(missing.status).toBe(400);
    expect(missing.body.error.details.resolved_at__lte).toBeTruthy();
    expect((await api.del("/api/v1/alerts?resolved_at__lte=yesterday")).status).toBe(400);
  });
});

describe("alerts config (seed 002's view of the built-in rules)", () => {
  it("shows the seeded thresholds, sets them, and protects the built-in rules from deletion", async () => {
    const before = await api.get("/api/v1/alerts/config");
    expect(before.status).toBe(200);
    expect(before.body.data).toMatchObject({
      cpu: { warning: 80, critical: 95, enabled: true },
      memory: { warning: 85, critical: 95, enabled: true },
      disk: { warning: 80, critical: 90, enabled: true },
    });
    const put = await api.fetch("/api/v1/alerts/config", {
      method: "PUT",
      json: { disk: { warning: 70, critical: 85 }, cpu: { warning: 90, critical: 99, enabled: false } },
    });
    expect(put.status).toBe(200);
    const after = (await put.json()) as {
      data: Record<string, { warning: number; enabled: boolean; rule_id: string }>;
    };
    expect(after.data.disk).toMatchObject({ warning: 70, critical: 85, enabled: true });
    expect(after.data.cpu).toMatchObject({ warning: 90, enabled: false });
    const rule = (await api.get(`/api/v1/alert_rules/${after.data.disk.rule_id}`)).body.data;
    expect(rule).toMatchObject({ metric: "disk", warning_threshold: 70, critical_threshold: 85 });
    expect((await api.del(`/api/v1/alert_rules/${after.data.disk.rule_id}`)).status).toBe(409);
    const bad = await api.fetch("/api/v1/alerts/config", {
      method: "PUT",
      json: { memory: { warning: 90, critical: 80 } },
    });
    expect(bad.status).toBe(422);
    expect(((await bad.json()) as any).error.details["memory.critical"]).toBeTruthy();
    const empty = await api.fetch("/api/v1/alerts/config", { method: "PUT", json: {} });
    expect(empty.status).toBe(422);
  });
});
