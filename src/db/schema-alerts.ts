import { index, integer, real, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

// Alerts and where they are sent (issue 19): rules, alerts with notes and silences, notification
// channels and their deliveries. Re-exported by schema.ts so drizzle-kit sees one schema.
// Timestamps are epoch ms.

/**
 * Alert rules: a metric crossing a threshold for `for_seconds` on the nodes a targeting selects.
 * Each node's Durable Object evaluates them on every heartbeat.
 */
export const alertRules = sqliteTable(
  "alert_rules",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    metric: text("metric").notNull(),
    operator: text("operator").notNull(),
    warningThreshold: real("warning_threshold").notNull(),
    criticalThreshold: real("critical_threshold"),
    forSeconds: integer("for_seconds").notNull(),
    /** The commands' targeting object, JSON. */
    targeting: text("targeting").notNull(),
    enabled: integer("enabled", { mode: "boolean" }).notNull(),
    /** JSON array of notification channel ids. */
    channelIds: text("channel_ids").notNull(),
    repeatIntervalSeconds: integer("repeat_interval_seconds").notNull(),
    insertedAt: integer("inserted_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [index("alert_rules_inserted_at_idx").on(t.insertedAt, t.id)],
);

/**
 * Alerts: one row per episode of a rule firing on a node, written only on transitions (fired,
 * escalated, resolved) by the node's session and on acknowledgement by the API.
 */
export const alerts = sqliteTable(
  "alerts",
  {
    id: text("id").primaryKey(),
    ruleId: text("rule_id").notNull(),
    nodeId: text("node_id").notNull(),
    metric: text("metric").notNull(),
    /** warning | critical */
    level: text("level").notNull(),
    /** firing | resolved */
    status: text("status").notNull(),
    value: real("value").notNull(),
    peakValue: real("peak_value").notNull(),
    threshold: real("threshold").notNull(),
    startedAt: integer("started_at").notNull(),
    resolvedAt: integer("resolved_at"),
    acknowledgedAt: integer("acknowledged_at"),
    /** Set when an operator cleared (resolved by hand) a firing alert. */
    clearedAt: integer("cleared_at"),
    /** When channels were last told about it (fired, escalated or repeated); drives the repeat interval. */
    lastNotifiedAt: integer("last_notified_at"),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    index("alerts_started_at_idx").on(t.startedAt, t.id),
    index("alerts_node_status_idx").on(t.nodeId, t.status),
    index("alerts_status_notified_idx").on(t.status, t.lastNotifiedAt),
    index("alerts_resolved_at_idx").on(t.resolvedAt),
  ],
);

/** Operators' notes on an alert, oldest first. */
export const alertNotes = sqliteTable(
  "alert_notes",
  {
    id: text("id").primaryKey(),
    alertId: text("alert_id")
      .notNull()
      .references(() => alerts.id, { onDelete: "cascade" }),
    body: text("body").notNull(),
    /** Who wrote it: the principal's display name. */
    author: text("author").notNull(),
    insertedAt: integer("inserted_at").notNull(),
  },
  (t) => [index("alert_notes_alert_idx").on(t.alertId, t.insertedAt)],
);

/**
 * Silences: between `starts_at` and `ends_at`, alerts of the nodes a targeting selects (and of one
 * metric, when set) still fire and are recorded, but no channel is notified.
 */
export const alertSilences = sqliteTable(
  "alert_silences",
  {
    id: text("id").primaryKey(),
    /** The commands' targeting object, JSON. */
    targeting: text("targeting").notNull(),
    metric: text("metric"),
    startsAt: integer("starts_at").notNull(),
    endsAt: integer("ends_at").notNull(),
    comment: text("comment").notNull(),
    createdBy: text("created_by").notNull(),
    insertedAt: integer("inserted_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    index("alert_silences_inserted_at_idx").on(t.insertedAt, t.id),
    index("alert_silences_ends_at_idx").on(t.endsAt),
  ],
);

/** Where alert notifications go: a chat webhook, an incident service, a mail API or a generic webhook. */
export const notificationChannels = sqliteTable(
  "notification_channels",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    /** slack | discord | teams | ntfy | pagerduty | email | webhook */
    type: text("type").notNull(),
    /** JSON object of the type's public settings. */
    config: text("config").notNull(),
    /** AES-GCM ciphertext of the JSON object of the type's secret settings (write-only). */
    secretsCiphertext: text("secrets_ciphertext").notNull(),
    /** JSON array of event types the channel gets besides the alert events of the rules naming it. */
    subscribedEvents: text("subscribed_events").notNull(),
    enabled: integer("enabled", { mode: "boolean" }).notNull(),
    insertedAt: integer("inserted_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [index("notification_channels_inserted_at_idx").on(t.insertedAt, t.id)],
);

/** One notification to one channel: retried with backoff like a webhook delivery. */
export const notificationDeliveries = sqliteTable(
  "notification_deliveries",
  {
    id: text("id").primaryKey(),
    channelId: text("channel_id")
      .notNull()
      .references(() => notificationChannels.id, { onDelete: "cascade" }),
    /** The outbox event it renders; null for repeats and test sends. */
    eventId: text("event_id"),
    eventType: text("event_type").notNull(),
    alertId: text("alert_id"),
    /** fired | escalated | resolved | repeat | acknowledged | test | event */
    reason: text("reason").notNull(),
    /** JSON payload rendered at send time. */
    data: text("data").notNull(),
    status: text("status", { enum: ["pending", "succeeded", "failed"] }).notNull(),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: integer("next_attempt_at"),
    lastStatusCode: integer("last_status_code"),
    lastError: text("last_error"),
    lastDurationMs: integer("last_duration_ms"),
    insertedAt: integer("inserted_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("notification_deliveries_event_unique").on(t.channelId, t.eventId),
    index("notification_deliveries_due_idx").on(t.status, t.nextAttemptAt),
    index("notification_deliveries_channel_idx").on(t.channelId, t.insertedAt),
  ],
);
