import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { writeTransitions } from "../../src/alerts/store";
import { createDatabase } from "../../src/db/client";
import { alerts, notificationDeliveries } from "../../src/db/schema";
import { runNotifications } from "../../workers/services/notification-dispatch";
import type { ReceivedRequest } from "../support/webhook-receiver-setup";
import { enrolNode } from "./agent-session";
import { createTestApi, type TestApi } from "./harness";

// The receiver runs in Node (globalSetup): workerd can't listen. Every channel here points at a
// fresh path on it; this file has its own database, so the notification runs see only its events.
const receiver = inject("webhookReceiver");
let api: TestApi;
let db: ReturnType<typeof createDatabase>;
let nodeId: string;
const CLUSTER = `nc-${crypto.randomUUID().slice(0, 8)}`;

async function received(path: string): Promise<ReceivedRequest[]> {
  const res = await fetch(`${receiver.url}/__requests?prefix=${encodeURIComponent(path)}`);
  return res.json();
}

async function channel(type: string, config: (url: string) => Record<string, unknown>, extra = {}) {
  const path = `/ok/${crypto.randomUUID()}`;
  const res = await api.post("/api/v1/notification_channels", {
    name: `${type} channel`,
    type,
    config: config(`${receiver.url}${path}`),
    ...extra,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return { id: res.body.data.id as string, path, body: res.body.data };
}

const run = () => runNotifications(api.env, { retryDelayMs: () => 0 });

async function fire(ruleId: string, metric = "disk", value = 91) {
  const alertId = crypto.randomUUID();
  const at = Date.now();
  await writeTransitions(db, nodeId, [
    {
      kind: "fired",
      alertId,
      ruleId,
      metric: metric as "disk",
      level: "warning",
      value,
      peak: value,
      threshold: 80,
      startedAt: at,
      at,
    },
  ]);
  return alertId;
}

async function rule(channelIds: string[], extra = {}) {
  const res = await api.post("/api/v1/alert_rules", {
    name: `disk ${crypto.randomUUID().slice(0, 6)}`,
    metric: "disk",
    warning_threshold: 80,
    channel_ids: channelIds,
    targeting: { type: "nodes", node_ids: [nodeId] },
    ...extra,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.data.id as string;
}

beforeAll(async () => {
  api = await createTestApi({ WEBHOOK_ALLOW_PRIVATE_IPS: "true" });
  db = createDatabase({ url: api.env.LIBSQL_URL ?? "" });
  await api.post("/api/v1/clusters", { name: CLUSTER, ipv4_range: "10.77.0.0/24" });
  ({ nodeId } = await enrolNode(api, CLUSTER));
});

describe("notification channels: CRUD", () => {
  it("creates every type, keeps secrets write-only, merges a PATCH, deletes", async () => {
    const slack = await channel("slack", (url) => ({ webhook_url: url }));
    expect(slack.body).toMatchObject({
      type: "slack",
      config: {},
      secret_fields: ["webhook_url"],
      enabled: true,
    });
    expect(JSON.stringify(slack.body)).not.toContain(receiver.url);
    const types: [string, (url: string) => Record<string, unknown>][] = [
      ["discord", (url) => ({ webhook_url: url })],
      ["teams", (url) => ({ webhook_url: url })],
      ["ntfy", (url) => ({ server_url: url, topic: "outpost-alerts", token: "tk_secret" })],
      ["pagerduty", (url) => ({ routing_key: "R0UTINGKEY", events_url: url })],
      [
        "email",
        (url) => ({
          provider: "resend",
          api_key: "re_secret",
          from: "a@example.com",
          to: ["b@example.com"],
          api_url: url,
        }),
      ],
      ["webhook", (url) => ({ url, secret: receiver.secret })],
    ];
    for (const [type, config] of types) {
      const made = await channel(type, config);
      const shown = JSON.stringify(made.body);
      for (const secret of ["tk_secret", "R0UTINGKEY", "re_secret", receiver.secret])
        expect(shown).not.toContain(secret);
    }
    const got = await api.get(`/api/v1/notification_channels/${slack.id}`);
    expect(got.body.data).toEqual(slack.body);
    const list = await api.get("/api/v1/notification_channels?type=ntfy");
    expect(list.body.data.map((c: { type: string }) => c.type)).toEqual(["ntfy"]);
    expect(list.body.data[0].config).toEqual({ server_url: expect.any(String), topic: "outpost-alerts" });

    const patched = await api.patch(`/api/v1/notification_channels/${slack.id}`, {
      name: "ops",
      enabled: false,
      subscribed_events: ["edge.node.registered"],
    });
    expect(patched.status).toBe(200);
    expect(patched.body.data).toMatchObject({
      name: "ops",
      enabled: false,
      subscribed_events: ["edge.node.registered"],
    });
    expect(
      (await api.get("/api/v1/notification_channels?enabled=false")).body.data.map(
        (c: { id: string }) => c.id,
      ),
    ).toEqual([slack.id]);
    expect((await api.del(`/api/v1/notification_channels/${slack.id}`)).status).toBe(204);
    expect((await api.get(`/api/v1/notification_channels/${slack.id}`)).status).toBe(404);
  });

  it("refuses bad settings with config.<field> details, and private URLs unless allowed", async () => {
    const bad = async (body: Record<string, unknown>, field: string) => {
      const res = await api.post("/api/v1/notification_channels", { name: "x", ...body });
      expect(res.status, JSON.stringify(res.body)).toBe(422);
      expect(Object.keys(res.body.error.details)).toContain(field);
    };
    await bad({ type: "slack", config: {} }, "config.webhook_url");
    await bad({ type: "slack", config: { webhook_url: "ftp://x" } }, "config.webhook_url");
    await bad({ type: "slack", config: { webhook_url: "https://h.example", extra: 1 } }, "config.extra");
    await bad({ type: "fax", config: {} }, "type");
    await bad({ type: "webhook", config: { url: "https://h.example", secret: "short" } }, "config.secret");
    await bad(
      {
        type: "webhook",
        config: { url: "https://h.example", secret: receiver.secret, body_template: '{"a": {{value}' },
      },
      "config.body_template",
    );
    await bad(
      {
        type: "email",
        config: { provider: "smtp", api_key: "k", from: "a@example.com", to: ["b@example.com"] },
      },
      "config.provider",
    );
    await bad(
      { type: "slack", config: { webhook_url: "https://h.example" }, subscribed_events: ["edge.nope"] },
      "subscribed_events.0",
    );
    const strict = await createTestApi({
      LIBSQL_URL: api.env.LIBSQL_URL,
      WEBHOOK_ALLOW_PRIVATE_IPS: "false",
    });
    for (const url of ["http://127.0.0.1:9/x", "http://169.254.169.254/latest", "http://10.0.0.1/"]) {
      const res = await strict.post("/api/v1/notification_channels", {
        name: "x",
        type: "discord",
        config: { webhook_url: url },
      });
      expect(res.status).toBe(422);
      expect(res.body.error.details["config.webhook_url"]).toBeTruthy();
    }
    const made = await channel("teams", (url) => ({ webhook_url: url }));
    const patch = await strict.patch(`/api/v1/notification_channels/${made.id}`, {
      config: { webhook_url: "http://127.0.0.1/" },
    });
    expect(patch.status).toBe(422);
    expect((await api.get(`/api/v1/notification_channels/${crypto.randomUUID()}`)).status).toBe(404);
  });
});

describe("notification channels: test send and delivery history", () => {
  it("sends a Slack-format test message and records it", async () => {
    const slack = await channel("slack", (url) => ({ webhook_url: url }));
    const res = await api.post(`/api/v1/notification_channels/${slack.id}/test`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.data).toMatchObject({
      reason: "test",
      status: "succeeded",
      last_status_code: 200,
      attempts: 1,
    });
    const [req] = await received(slack.path);
    const body = JSON.parse(req.body);
    expect(body.text).toMatch(/^\[WARNING\] Test notification for slack channel on outpost-test/);
    expect(body.attachments[0].fields).toEqual(
      expect.arrayContaining([{ title: "Metric", value: "cpu", short: true }]),
    );
    const history = await api.get(
      `/api/v1/notification_channels/${slack.id}/deliveries?reason=test&status=succeeded`,
    );
    expect(history.body.data.map((d: { id: string }) => d.id)).toEqual([res.body.data.id]);
    expect(
      (await api.get(`/api/v1/notification_channels/${slack.id}/deliveries?status=failed`)).body.data,
    ).toEqual([]);
    expect((await api.get(`/api/v1/notification_channels/${slack.id}/deliveries?reason=bogus`)).status).toBe(
      400,
    );
    expect((await api.get(`/api/v1/notification_channels/${crypto.randomUUID()}/deliveries`)).status).toBe(
      404,
    );

    const down = await api.post("/api/v1/notification_channels", {
      name: "down",
      type: "discord",
      config: { webhook_url: `${receiver.url}/down/${crypto.randomUUID()}` },
    });
    const failed = await api.post(`/api/v1/notification_channels/${down.body.data.id}/test`);
    expect(failed.body.data).toMatchObject({
      status: "failed",
      last_status_code: 500,
      last_error: "HTTP 500",
    });
  });

  it("signs the generic webhook and fills its body template", async () => {
    const hook = await channel("webhook", (url) => ({
      url,
      secret: receiver.secret,
      body_template: '{"msg": "{{summary}}", "node": "{{alert.hostname}}", "reason": "{{reason}}"}',
    }));
    await api.post(`/api/v1/notification_channels/${hook.id}/test`);
    const [req] = await received(hook.path);
    expect(req.signature_valid).toBe(true);
    expect(req.headers["x-edge-event"]).toBe("edge.alert.fired");
    expect(JSON.parse(req.body)).toEqual({
      msg: expect.stringContaining("[WARNING]"),
      node: "outpost-test",
      reason: "test",
    });
  });
});

describe("notifications on alert transitions", () => {
  it("tells the rule's channels on fire and resolve, in each type's format; PagerDuty dedups on the alert id", async () => {
    const slack = await channel("slack", (url) => ({ webhook_url: url }));
    const discord = await channel("discord", (url) => ({ webhook_url: url }));
    const teams = await channel("teams", (url) => ({ webhook_url: url }));
    const ntfy = await channel("ntfy", (url) => ({ server_url: url, topic: "alerts", token: "tk" }));
    const pd = await channel("pagerduty", (url) => ({ routing_key: "RK", events_url: url }));
    const mail = await channel("email", (url) => ({
      provider: "postmark",
      api_key: "pm",
      from: "a@example.com",
      to: ["b@example.com", "c@example.com"],
      api_url: url,
    }));
    const ruleId = await rule([slack.id, discord.id, teams.id, ntfy.id, pd.id, mail.id], {
      repeat_interval_seconds: 0,
    });
    const alertId = await fire(ruleId);
    const first = await run();
    expect(first.succeeded).toBeGreaterThanOrEqual(6);

    const [s] = await received(slack.path);
    expect(JSON.parse(s.body).text).toMatch(/^\[WARNING\] disk .* on host-a: disk 91 \(threshold 80\)$/);
    expect(JSON.parse((await received(discord.path))[0].body).embeds[0].color).toBe(0xe8a317);
    expect(JSON.parse((await received(teams.path))[0].body)["@type"]).toBe("MessageCard");
    const n = await received(ntfy.path);
    expect(n[0].headers.authorization).toBe("Bearer tk");
    expect(JSON.parse(n[0].body)).toMatchObject({ topic: "alerts", priority: 3 });
    expect(JSON.parse((await received(pd.path))[0].body)).toMatchObject({
      routing_key: "RK",
      event_action: "trigger",
      dedup_key: alertId,
      payload: { severity: "warning", source: "host-a" },
    });
    const m = await received(mail.path);
    expect(m[0].headers["x-postmark-server-token"]).toBe("pm");
    expect(JSON.parse(m[0].body)).toMatchObject({ From: "a@example.com", To: "b@example.com,c@example.com" });
    const [row] = await db.select().from(alerts).where(eq(alerts.id, alertId));
    expect(row.lastNotifiedAt).not.toBeNull();

    await writeTransitions(db, nodeId, [
      {
        kind: "resolved",
        alertId,
        ruleId,
        metric: "disk",
        level: "warning",
        value: 40,
        peak: 91,
        threshold: 80,
        startedAt: row.startedAt,
        at: Date.now(),
      },
    ]);
    await run();
    const pdAll = await received(pd.path);
    expect(JSON.parse(pdAll[1].body)).toEqual({
      routing_key: "RK",
      event_action: "resolve",
      dedup_key: alertId,
    });
    expect(JSON.parse((await received(slack.path))[1].body).text).toMatch(/^\[RESOLVED\]/);
    const history = await api.get(`/api/v1/notification_channels/${slack.id}/deliveries?alert_id=${alertId}`);
    expect(history.body.data.map((d: { reason: string }) => d.reason).sort()).toEqual(["fired", "resolved"]);
  });

  it("repeats a firing alert every repeat interval until it is acknowledged", async () => {
    const slack = await channel("slack", (url) => ({ webhook_url: url }));
    const ruleId = await rule([slack.id], { repeat_interval_seconds: 60 });
    const alertId = await fire(ruleId);
    await run();
    expect(await received(slack.path)).toHaveLength(1);
    await run(); // not yet due
    expect(await received(slack.path)).toHaveLength(1);
    await db
      .update(alerts)
      .set({ lastNotifiedAt: Date.now() - 61_000 })
      .where(eq(alerts.id, alertId));
    await run();
    const after = await received(slack.path);
    expect(after).toHaveLength(2);
    expect(JSON.parse(after[1].body).text).toContain("(still firing)");
    await api.patch(`/api/v1/alerts/${alertId}/acknowledge`);
    await db
      .update(alerts)
      .set({ lastNotifiedAt: Date.now() - 61_000 })
      .where(eq(alerts.id, alertId));
    await run();
    expect(await received(slack.path)).toHaveLength(2);
  });

  it("sends nothing for a silenced alert, but tells it once the silence is gone", async () => {
    const slack = await channel("slack", (url) => ({ webhook_url: url }));
    const ruleId = await rule([slack.id], { repeat_interval_seconds: 0 });
    const silence = await api.post("/api/v1/alert_silences", {
      targeting: { type: "clusters", cluster_names: [CLUSTER] },
      metric: "disk",
      ends_at: new Date(Date.now() + 3_600_000).toISOString(),
      comment: "disk migration",
    });
    expect(silence.status, JSON.stringify(silence.body)).toBe(201);
    const alertId = await fire(ruleId);
    await run();
    expect(await received(slack.path)).toHaveLength(0);
    const [silent] = await db.select().from(alerts).where(eq(alerts.id, alertId));
    expect(silent.status).toBe("firing");
    expect(silent.lastNotifiedAt).toBeNull();

    // Another metric is not covered by that silence.
    const cpuRule = await rule([slack.id], { metric: "cpu", repeat_interval_seconds: 0 });
    await fire(cpuRule, "cpu", 99);
    await run();
    expect(await received(slack.path)).toHaveLength(1);

    expect((await api.del(`/api/v1/alert_silences/${silence.body.data.id}`)).status).toBe(204);
    await run();
    const all = await received(slack.path);
    expect(all).toHaveLength(2);
    expect(JSON.parse(all[1].body).text).toContain("disk");
  });

  it("delivers other event types a channel subscribes to right after the write, and skips disabled channels", async () => {
    const sub = await channel("webhook", (url) => ({ url, secret: receiver.secret }), {
      subscribed_events: ["edge.node.registered"],
    });
    const off = await channel("slack", (url) => ({ webhook_url: url }), {
      enabled: false,
      subscribed_events: ["edge.node.registered"],
    });
    // No run() and no cron: the enrolment's own request starts the delivery.
    const { nodeId: other } = await enrolNode(api, CLUSTER);
    const [req] = await received(sub.path);
    expect(JSON.parse(req.body)).toMatchObject({
      type: "edge.node.registered",
      reason: "event",
      data: { node_id: other },
    });
    expect(req.signature_valid).toBe(true);
    expect(await received(off.path)).toHaveLength(0);
  });

  it("retries a failing channel with backoff and records the failure", async () => {
    const path = `/flaky/${crypto.randomUUID()}`;
    const res = await api.post("/api/v1/notification_channels", {
      name: "flaky",
      type: "slack",
      config: { webhook_url: `${receiver.url}${path}` },
    });
    const ruleId = await rule([res.body.data.id], { repeat_interval_seconds: 0 });
    await fire(ruleId);
    await run();
    await run();
    await run();
    const rows = await db
      .select()
      .from(notificationDeliveries)
      .where(eq(notificationDeliveries.channelId, res.body.data.id));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ status: "succeeded", attempts: 3, lastStatusCode: 200 });
    expect(await received(path)).toHaveLength(3);
  });
});

describe("alert silences", () => {
  it("creates, lists by activity and metric, gets and deletes; refuses bad windows", async () => {
    const now = Date.now();
    const active = await api.post("/api/v1/alert_silences", {
      ends_at: new Date(now + 600_000).toISOString(),
      comment: "maintenance",
    });
    expect(active.status).toBe(201);
    expect(active.body.data).toMatchObject({
      targeting: { type: "all" },
      metric: null,
      active: true,
      created_by: "API_KEY",
    });
    const later = await api.post("/api/v1/alert_silences", {
      targeting: { type: "all", node_filters: { tags: "env:prod" } },
      metric: "memory",
      starts_at: new Date(now + 3_600_000).toISOString(),
      ends_at: new Date(now + 7_200_000).toISOString(),
      comment: "tonight",
    });
    expect(later.status, JSON.stringify(later.body)).toBe(201);
    expect(later.body.data.active).toBe(false);
    const ids = async (q: string) =>
      (await api.get(`/api/v1/alert_silences?${q}`)).body.data.map((s: { id: string }) => s.id);
    expect(await ids("active=true")).toContain(active.body.data.id);
    expect(await ids("active=true")).not.toContain(later.body.data.id);
    expect(await ids("active=false")).toContain(later.body.data.id);
    expect(await ids("metric=memory")).toEqual([later.body.data.id]);
    expect((await api.get(`/api/v1/alert_silences/${later.body.data.id}`)).body.data).toEqual(
      later.body.data,
    );
    expect((await api.del(`/api/v1/alert_silences/${later.body.data.id}`)).status).toBe(204);
    expect((await api.get(`/api/v1/alert_silences/${later.body.data.id}`)).status).toBe(404);
    expect((await api.del(`/api/v1/alert_silences/${later.body.data.id}`)).status).toBe(404);

    const bad = async (body: Record<string, unknown>, field: string) => {
      const res = await api.post("/api/v1/alert_silences", { comment: "c", ...body });
      expect(res.status, JSON.stringify(res.body)).toBe(422);
      expect(Object.keys(res.body.error.details)).toContain(field);
    };
    await bad({ ends_at: new Date(now - 1000).toISOString() }, "ends_at");
    await bad(
      { starts_at: new Date(now + 5000).toISOString(), ends_at: new Date(now + 4000).toISOString() },
      "ends_at",
    );
    await bad({ ends_at: "tomorrow" }, "ends_at");
    await bad({ ends_at: new Date(now + 5000).toISOString(), metric: "bogus" }, "metric");
    await bad(
      { ends_at: new Date(now + 5000).toISOString(), targeting: { type: "nodes" } },
      "targeting.node_ids",
    );
    await bad({ ends_at: new Date(now + 5000).toISOString(), comment: "" }, "comment");
  });
});

describe("notification delivery retention", () => {
  it("prunes finished deliveries past the retention, never pending ones", async () => {
    const { pruneNotificationDeliveries } = await import("../../src/notification-channels/prune");
    const made = await channel("slack", (url) => ({ webhook_url: url }));
    await api.post(`/api/v1/notification_channels/${made.id}/test`);
    const pending = crypto.randomUUID();
    await db.insert(notificationDeliveries).values({
      id: pending,
      channelId: made.id,
      eventType: "edge.alert.fired",
      reason: "repeat",
      data: "{}",
      status: "pending",
      attempts: 0,
      nextAttemptAt: Date.now() + 3_600_000,
      insertedAt: 0,
      updatedAt: 0,
    });
    expect(await pruneNotificationDeliveries(db, Date.now() + 1000)).toBeGreaterThanOrEqual(1);
    const left = await db
      .select()
      .from(notificationDeliveries)
      .where(eq(notificationDeliveries.channelId, made.id));
    expect(left.map((r) => r.id)).toEqual([pending]);
  });
});
