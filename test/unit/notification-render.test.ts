import { describe, expect, it } from "vitest";
import {
  fillTemplate,
  type NotificationContext,
  renderNotification,
  summaryOf,
} from "../../src/notification-channels/render";

const ctx: NotificationContext = {
  event_id: "e1",
  event_type: "edge.alert.fired",
  reason: "fired",
  occurred_at: "2026-12-05T00:00:00Z",
  alert: {
    id: "a1",
    rule_id: "r1",
    rule_name: 'Disk "root"',
    node_id: "n1",
    hostname: "web-01",
    cluster_name: "eu",
    metric: "disk",
    level: "critical",
    status: "firing",
    value: 93.5,
    threshold: 90,
    started_at: "2026-12-05T00:00:00Z",
  },
};

describe("notification rendering", () => {
  it("summarises an alert in one line, by reason", () => {
    expect(summaryOf(ctx)).toBe('[CRITICAL] Disk "root" on web-01: disk 93.5 (threshold 90)');
    expect(summaryOf({ ...ctx, reason: "resolved" })).toMatch(/^\[RESOLVED\]/);
    expect(summaryOf({ ...ctx, reason: "repeat" })).toMatch(/\(still firing\)$/);
  });

  it("fills a template with values escaped for JSON strings", () => {
    const out = fillTemplate('{"s": "{{summary}}", "v": "{{alert.value}}", "x": "{{missing}}"}', ctx);
    expect(JSON.parse(out)).toEqual({ s: summaryOf(ctx), v: "93.5", x: "" });
  });

  it("maps reasons to PagerDuty actions with the alert id as dedup key", () => {
    const trigger = JSON.parse(renderNotification("pagerduty", { routing_key: "k" }, ctx).body);
    expect(trigger).toMatchObject({
      event_action: "trigger",
      dedup_key: "a1",
      payload: { severity: "critical" },
    });
    const resolve = JSON.parse(
      renderNotification("pagerduty", { routing_key: "k" }, { ...ctx, reason: "resolved" }).body,
    );
    expect(resolve).toEqual({ routing_key: "k", event_action: "resolve", dedup_key: "a1" });
    const ack = JSON.parse(
      renderNotification("pagerduty", { routing_key: "k" }, { ...ctx, reason: "acknowledged" }).body,
    );
    expect(ack.event_action).toBe("acknowledge");
  });

  it("uses each email provider's API shape and default URL", () => {
    const base = { api_key: "k", from: "a@x.io", to: ["b@x.io"] };
    const resend = renderNotification("email", { ...base, provider: "resend" }, ctx);
    expect(resend.url).toBe("https://api.resend.com/emails");
    expect(resend.headers.authorization).toBe("Bearer k");
    const postmark = renderNotification("email", { ...base, provider: "postmark" }, ctx);
    expect(postmark.url).toBe("https://api.postmarkapp.com/email");
    expect(JSON.parse(postmark.body)).toMatchObject({
      From: "a@x.io",
      To: "b@x.io",
      Subject: summaryOf(ctx),
    });
  });
});
