import type { ChannelType } from "./schema";

/** What a delivery carries (stored as its `data`), rendered per channel type at send time. */
export interface NotificationContext {
  event_id: string | null;
  event_type: string;
  /** fired | escalated | resolved | acknowledged | repeat | test | event */
  reason: string;
  occurred_at: string;
  alert?: {
    id: string;
    rule_id: string;
    rule_name: string | null;
    node_id: string;
    hostname: string | null;
    cluster_name: string | null;
    metric: string;
    level: string;
    status: string;
    value: number;
    threshold: number;
    started_at: string;
  };
  /** The event's own payload (for event types other than alerts). */
  data?: Record<string, unknown>;
}

/** An HTTP request to make: every channel type is one JSON POST. */
export interface RenderedRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** One line a person reads: `[CRITICAL] Disk usage on web-01: disk 91.5 (threshold 90)`. */
export function summaryOf(ctx: NotificationContext): string {
  const a = ctx.alert;
  if (!a) return `${ctx.event_type}${ctx.reason === "test" ? " (test)" : ""}`;
  const tag =
    ctx.reason === "resolved"
      ? "RESOLVED"
      : ctx.reason === "acknowledged"
        ? "ACKNOWLEDGED"
        : a.level.toUpperCase();
  const where = a.hostname ?? a.node_id;
  const repeat = ctx.reason === "repeat" ? " (still firing)" : ctx.reason === "test" ? " (test)" : "";
  return `[${tag}] ${a.rule_name ?? a.metric} on ${where}: ${a.metric} ${a.value} (threshold ${a.threshold})${repeat}`;
}

const COLORS = { critical: 0xd63232, warning: 0xe8a317, ok: 0x2eb67d, info: 0x4a90d9 };
function colorOf(ctx: NotificationContext): number {
  if (!ctx.alert) return COLORS.info;
  if (ctx.reason === "resolved") return COLORS.ok;
  return ctx.alert.level === "critical" ? COLORS.critical : COLORS.warning;
}
const hex = (n: number) => `#${n.toString(16).padStart(6, "0")}`;

function facts(ctx: NotificationContext): [string, string][] {
  const a = ctx.alert;
  if (!a)
    return Object.entries(ctx.data ?? {}).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]);
  return [
    ["Node", a.hostname ?? a.node_id],
    ["Cluster", a.cluster_name ?? "-"],
    ["Metric", a.metric],
    ["Level", a.level],
    ["Value", String(a.value)],
    ["Threshold", String(a.threshold)],
    ["Started", a.started_at],
    ["Alert", a.id],
  ];
}

/** Replaces `{{name}}` / `{{alert.name}}` with the value, escaped to sit inside a JSON string. */
export function fillTemplate(template: string, ctx: NotificationContext): string {
  const flat: Record<string, unknown> = { ...ctx, summary: summaryOf(ctx) };
  for (const [k, v] of Object.entries(ctx.alert ?? {})) flat[`alert.${k}`] = v;
  return template.replace(/\{\{\s*([a-z_.]+)\s*\}\}/g, (_, key: string) => {
    const value = flat[key];
    if (value === undefined || value === null) return "";
    const text = typeof value === "string" ? value : JSON.stringify(value);
    return JSON.stringify(text).slice(1, -1);
  });
}

function pagerDutyAction(reason: string): "trigger" | "resolve" | "acknowledge" {
  if (reason === "resolved") return "resolve";
  if (reason === "acknowledged") return "acknowledge";
  return "trigger";
}

/**
 * The request for one notification to one channel (settings: the public and secret ones merged).
 * The generic webhook's body is signed by the caller; every other type authenticates by its URL or key.
 */
export function renderNotification(
  type: ChannelType,
  settings: Record<string, unknown>,
  ctx: NotificationContext,
): RenderedRequest {
  const s = settings as Record<string, string | number | string[] | undefined>;
  const summary = summaryOf(ctx);
  const json = { "content-type": "application/json" };
  switch (type) {
    case "slack":
      return {
        url: String(s.webhook_url),
        headers: json,
        body: JSON.stringify({
          text: summary,
          attachments: [
            {
              color: hex(colorOf(ctx)),
              fields: facts(ctx).map(([title, value]) => ({ title, value, short: true })),
            },
          ],
        }),
      };
    case "discord":
      return {
        url: String(s.webhook_url),
        headers: json,
        body: JSON.stringify({
          content: summary,
          embeds: [
            {
              title: summary.slice(0, 256),
              color: colorOf(ctx),
              fields: facts(ctx).map(([name, value]) => ({
                name,
                value: value.slice(0, 1024),
                inline: true,
              })),
            },
          ],
        }),
      };
    case "teams":
      return {
        url: String(s.webhook_url),
        headers: json,
        body: JSON.stringify({
          "@type": "MessageCard",
          "@context": "https://schema.org/extensions",
          summary,
          themeColor: hex(colorOf(ctx)).slice(1),
          title: summary,
          sections: [{ facts: facts(ctx).map(([name, value]) => ({ name, value })) }],
        }),
      };
    case "ntfy": {
      const headers: Record<string, string> = { ...json };
      if (s.token) headers.authorization = `Bearer ${s.token}`;
      const critical = ctx.alert?.level === "critical" && ctx.reason !== "resolved";
      return {
        url: String(s.server_url ?? "https://ntfy.sh"),
        headers,
        body: JSON.stringify({
          topic: s.topic,
          title: summary.slice(0, 200),
          message: facts(ctx)
            .map(([k, v]) => `${k}: ${v}`)
            .join("\n"),
          priority: typeof s.priority === "number" ? s.priority : critical ? 5 : 3,
          tags: [ctx.reason === "resolved" ? "white_check_mark" : critical ? "rotating_light" : "warning"],
        }),
      };
    }
    case "pagerduty": {
      const action = pagerDutyAction(ctx.reason);
      const body: Record<string, unknown> = {
        routing_key: s.routing_key,
        event_action: action,
        // The alert id, so a resolve or acknowledge closes the incident its trigger opened.
        dedup_key: ctx.alert?.id ?? ctx.event_id ?? ctx.event_type,
      };
      if (action === "trigger") {
        body.payload = {
          summary: summary.slice(0, 1024),
          source: ctx.alert?.hostname ?? ctx.alert?.node_id ?? "outpost",
          severity: ctx.alert ? (ctx.alert.level === "critical" ? "critical" : "warning") : "info",
          timestamp: ctx.occurred_at,
          custom_details: ctx.alert ?? ctx.data ?? {},
        };
      }
      return {
        url: String(s.events_url ?? "https://events.pagerduty.com/v2/enqueue"),
        headers: json,
        body: JSON.stringify(body),
      };
    }
    case "email": {
      const text = `${summary}\n\n${facts(ctx)
        .map(([k, v]) => `${k}: ${v}`)
        .join("\n")}\n`;
      const to = (s.to as string[]) ?? [];
      if (s.provider === "postmark")
        return {
          url: String(s.api_url ?? "https://api.postmarkapp.com/email"),
          headers: { ...json, accept: "application/json", "x-postmark-server-token": String(s.api_key) },
          body: JSON.stringify({ From: s.from, To: to.join(","), Subject: summary, TextBody: text }),
        };
      return {
        url: String(s.api_url ?? "https://api.resend.com/emails"),
        headers: { ...json, authorization: `Bearer ${s.api_key}` },
        body: JSON.stringify({ from: s.from, to, subject: summary, text }),
      };
    }
    case "webhook": {
      const body =
        typeof s.body_template === "string" && s.body_template !== ""
          ? fillTemplate(s.body_template, ctx)
          : JSON.stringify({
              id: ctx.event_id,
              type: ctx.event_type,
              occurred_at: ctx.occurred_at,
              reason: ctx.reason,
              summary,
              alert: ctx.alert ?? null,
              data: ctx.data ?? null,
            });
      return { url: String(s.url), headers: json, body };
    }
  }
}
