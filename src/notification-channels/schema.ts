import * as v from "valibot";
import { EVENT_TYPES, type EventType } from "../events/catalog";
import { DateTimeOutput, objectMessage, UuidOutput } from "../schemas/common";

export const CHANNEL_TYPES = ["slack", "discord", "teams", "ntfy", "pagerduty", "email", "webhook"] as const;
export type ChannelType = (typeof CHANNEL_TYPES)[number];

const Url = v.pipe(
  v.string("must be a string"),
  v.maxLength(2048, "must be at most 2048 characters"),
  v.check(
    (url) => /^https?:\/\//.test(url) && URL.canParse(url) && new URL(url).hostname !== "",
    "must be an absolute http(s) URL",
  ),
  v.check((url) => !/\s/.test(url), "must not contain whitespace"),
);
const Text = (max: number) =>
  v.pipe(v.string("must be a string"), v.trim(), v.minLength(1, "can't be blank"), v.maxLength(max));
const Email = v.pipe(v.string("must be a string"), v.email("must be an email address"), v.maxLength(320));

/**
 * Each type's settings, and which of them are secret (write-only, encrypted, never shown): a chat
 * webhook URL is itself the credential.
 */
export const CHANNEL_CONFIGS = {
  slack: { schema: v.strictObject({ webhook_url: Url }, objectMessage), secret: ["webhook_url"] },
  discord: { schema: v.strictObject({ webhook_url: Url }, objectMessage), secret: ["webhook_url"] },
  teams: { schema: v.strictObject({ webhook_url: Url }, objectMessage), secret: ["webhook_url"] },
  ntfy: {
    schema: v.strictObject(
      {
        server_url: v.optional(Url, "https://ntfy.sh"),
        topic: v.pipe(Text(64), v.regex(/^[-_A-Za-z0-9]+$/, "must be letters, digits, - and _")),
        priority: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(5))),
        token: v.optional(Text(256)),
      },
      objectMessage,
    ),
    secret: ["token"],
  },
  pagerduty: {
    schema: v.strictObject(
      {
        routing_key: Text(64),
        events_url: v.optional(Url, "https://events.pagerduty.com/v2/enqueue"),
      },
      objectMessage,
    ),
    secret: ["routing_key"],
  },
  email: {
    schema: v.strictObject(
      {
        provider: v.picklist(["resend", "postmark"], "must be resend or postmark"),
        api_key: Text(256),
        from: Email,
        to: v.pipe(v.array(Email, "must be an array of email addresses"), v.minLength(1), v.maxLength(20)),
        api_url: v.optional(Url),
      },
      objectMessage,
    ),
    secret: ["api_key"],
  },
  webhook: {
    schema: v.strictObject(
      {
        url: Url,
        secret: v.pipe(
          v.string("must be a string"),
          v.minBytes(32, "must be at least 32 bytes"),
          v.maxBytes(256, "must be at most 256 bytes"),
        ),
        body_template: v.optional(v.pipe(v.string("must be a string"), v.maxLength(8000))),
      },
      objectMessage,
    ),
    secret: ["secret"],
  },
} as const satisfies Record<ChannelType, { schema: v.GenericSchema; secret: readonly string[] }>;

/** The setting names that hold URLs: each passes the webhook SSRF check on write and on send. */
export const URL_FIELDS = ["webhook_url", "server_url", "events_url", "api_url", "url"] as const;

const SubscribedEvents = v.pipe(
  v.array(
    v.picklist(EVENT_TYPES, "must be a known event type (GET /api/v1/event_types)"),
    "must be an array of event types",
  ),
  v.maxLength(20, "must contain at most 20 event types"),
  v.transform((list) => [...new Set(list)] as EventType[]),
);
const Name = v.pipe(
  v.string("must be a string"),
  v.trim(),
  v.minLength(1, "can't be blank"),
  v.maxLength(100),
);

/** `POST /api/v1/notification_channels`; `config` is checked against the type's settings by the store. */
export const NotificationChannelCreateRequest = v.pipe(
  v.strictObject(
    {
      name: Name,
      type: v.picklist(CHANNEL_TYPES, `must be one of: ${CHANNEL_TYPES.join(", ")}`),
      config: v.record(v.string(), v.unknown(), "must be an object"),
      subscribed_events: v.optional(SubscribedEvents, []),
      enabled: v.optional(v.boolean("must be a boolean"), true),
    },
    objectMessage,
  ),
  v.title("NotificationChannelCreateRequest"),
  v.description(
    "Settings by type — slack, discord, teams: webhook_url (secret). ntfy: topic, server_url (default https://ntfy.sh), priority 1–5, token (secret). pagerduty: routing_key (secret), events_url. email: provider (resend|postmark), api_key (secret), from, to[], api_url. webhook: url, secret (HMAC-SHA256 key, 32–256 bytes; signs X-Edge-Signature), body_template (JSON with {{placeholders}}). Secrets are encrypted and never returned; URLs pass the webhook SSRF check.",
  ),
);
export type NotificationChannelCreateInput = v.InferOutput<typeof NotificationChannelCreateRequest>;

/** `PATCH /api/v1/notification_channels/{id}`: `config` keys merge into the stored settings. */
export const NotificationChannelUpdateRequest = v.pipe(
  v.strictObject(
    {
      name: v.optional(Name),
      config: v.optional(v.record(v.string(), v.unknown(), "must be an object")),
      subscribed_events: v.optional(SubscribedEvents),
      enabled: v.optional(v.boolean("must be a boolean")),
    },
    objectMessage,
  ),
  v.title("NotificationChannelUpdateRequest"),
);
export type NotificationChannelUpdateInput = v.InferOutput<typeof NotificationChannelUpdateRequest>;

/** A channel as the API shows it: its public settings and the names of the secret ones set. */
export const NotificationChannelSchema = v.pipe(
  v.object({
    id: UuidOutput,
    name: v.string(),
    type: v.picklist(CHANNEL_TYPES),
    config: v.pipe(v.record(v.string(), v.unknown()), v.description("Public settings (secrets left out)")),
    secret_fields: v.pipe(
      v.array(v.string()),
      v.description("Write-only settings of this type: stored encrypted, never returned"),
    ),
    subscribed_events: v.array(v.picklist(EVENT_TYPES)),
    enabled: v.boolean(),
    inserted_at: DateTimeOutput,
    updated_at: DateTimeOutput,
  }),
  v.title("NotificationChannel"),
);
export type NotificationChannelResponse = v.InferOutput<typeof NotificationChannelSchema>;

export const DELIVERY_REASONS = [
  "fired",
  "escalated",
  "resolved",
  "acknowledged",
  "repeat",
  "test",
  "event",
] as const;

/** One notification to one channel, as the delivery history shows it. */
export const NotificationDeliverySchema = v.pipe(
  v.object({
    id: UuidOutput,
    channel_id: UuidOutput,
    event_id: v.nullable(UuidOutput),
    event_type: v.string(),
    alert_id: v.nullable(UuidOutput),
    reason: v.picklist(DELIVERY_REASONS),
    status: v.picklist(["pending", "succeeded", "failed"]),
    attempts: v.number(),
    next_attempt_at: v.nullable(DateTimeOutput),
    last_status_code: v.nullable(v.number()),
    last_error: v.nullable(v.string()),
    last_duration_ms: v.nullable(v.number()),
    inserted_at: DateTimeOutput,
    updated_at: DateTimeOutput,
  }),
  v.title("NotificationDelivery"),
);
export type NotificationDeliveryResponse = v.InferOutput<typeof NotificationDeliverySchema>;
