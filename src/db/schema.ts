import { index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

// Timestamps are stored as integer milliseconds since the epoch (UTC): cheap to
// index and compare; the API renders them as ISO 8601.

export const clusters = sqliteTable(
  "clusters",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    ipv4Range: text("ipv4_range").notNull(),
    // First and last address of the range as integers, so overlap checks are one comparison.
    ipv4Start: integer("ipv4_start").notNull(),
    ipv4End: integer("ipv4_end").notNull(),
    nodeLimit: integer("node_limit"),
    // Members, kept by triggers on `nodes` (migrations/0002): the node_limit check reads one row
    // instead of counting the cluster.
    nodeCount: integer("node_count").notNull().default(0),
    // Host addresses handed out so far from the bottom of the range (the next one is
    // ipv4_start + 2 + next_host). Raised by triggers when a node arrives with a higher address.
    nextHost: integer("next_host").notNull().default(0),
    networkName: text("network_name").notNull(),
    vpnDomain: text("vpn_domain").notNull(),
    insertedAt: integer("inserted_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("clusters_name_unique").on(t.name),
    index("clusters_ipv4_start_idx").on(t.ipv4Start, t.ipv4End),
    index("clusters_inserted_at_idx").on(t.insertedAt, t.id),
  ],
);

/**
 * Addresses below a cluster's `next_host` that a node gave back (deleted, moved, re-addressed), kept
 * by triggers on `nodes`: enrolment reuses one of them before taking a new one, in one index lookup.
 */
export const clusterFreeAddresses = sqliteTable(
  "cluster_free_addresses",
  {
    clusterId: text("cluster_id")
      .notNull()
      .references(() => clusters.id, { onDelete: "cascade" }),
    address: text("address").notNull(),
  },
  (t) => [primaryKey({ columns: [t.clusterId, t.address] })],
);

export const enrollmentKeys = sqliteTable(
  "enrollment_keys",
  {
    id: text("id").primaryKey(),
    clusterId: text("cluster_id")
      .notNull()
      .references(() => clusters.id, { onDelete: "cascade" }),
    name: text("name"),
    // SHA-256 of the secret, for lookup when an agent presents the key.
    keyHash: text("key_hash").notNull(),
    // AES-GCM ciphertext of the full key blob, so the API can show it again.
    keyCiphertext: text("key_ciphertext").notNull(),
    usesRemaining: integer("uses_remaining"),
    expiredAt: integer("expired_at"),
    lastUsedAt: integer("last_used_at"),
    insertedAt: integer("inserted_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("enrollment_keys_key_hash_unique").on(t.keyHash),
    index("enrollment_keys_cluster_idx").on(t.clusterId),
    index("enrollment_keys_inserted_at_idx").on(t.insertedAt, t.id),
  ],
);

export const nodes = sqliteTable(
  "nodes",
  {
    id: text("id").primaryKey(),
    idType: text("id_type", { enum: ["persistent", "random"] }).notNull(),
    clusterId: text("cluster_id")
      .notNull()
      .references(() => clusters.id, { onDelete: "restrict" }),
    nodeName: text("node_name").notNull(),
    status: text("status", { enum: ["healthy", "unhealthy", "unreachable"] })
      .notNull()
      .default("unreachable"),
    version: text("version"),
    hostname: text("hostname"),
    platform: text("platform"),
    ipv4Address: text("ipv4_address"),
    netmakerHostId: text("netmaker_host_id"),
    apiTokenHash: text("api_token_hash").notNull(),
    apiTokenCiphertext: text("api_token_ciphertext").notNull(),
    proxyPasswordCiphertext: text("proxy_password_ciphertext").notNull(),
    selfUpdateEnabled: integer("self_update_enabled", { mode: "boolean" }).notNull().default(true),
    lastSeenAt: integer("last_seen_at"),
    insertedAt: integer("inserted_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("nodes_api_token_hash_unique").on(t.apiTokenHash),
    uniqueIndex("nodes_cluster_ipv4_unique").on(t.clusterId, t.ipv4Address),
    index("nodes_last_seen_at_idx").on(t.lastSeenAt),
    // Leads with the cluster so a cluster filter also serves the default order (no temp B-tree).
    index("nodes_cluster_idx").on(t.clusterId, t.insertedAt, t.id),
    index("nodes_inserted_at_idx").on(t.insertedAt, t.id),
    index("nodes_status_idx").on(t.status),
  ],
);

export const aliases = sqliteTable(
  "aliases",
  {
    id: text("id").primaryKey(),
    nodeId: text("node_id")
      .notNull()
      .references(() => nodes.id, { onDelete: "cascade" }),
    // Denormalised from the node so uniqueness per cluster is a plain unique index; kept in step on cluster change.
    clusterId: text("cluster_id").notNull(),
    name: text("name").notNull(),
    insertedAt: integer("inserted_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("aliases_cluster_name_unique").on(t.clusterId, t.name),
    index("aliases_node_idx").on(t.nodeId),
    index("aliases_inserted_at_idx").on(t.insertedAt, t.id),
  ],
);

/**
 * The event outbox: every event is inserted in the same database write as the
 * change it describes; webhook delivery reads from here.
 */
export const events = sqliteTable(
  "events",
  {
    id: text("id").primaryKey(),
    type: text("type").notNull(),
    occurredAt: integer("occurred_at").notNull(),
    /** JSON payload (`data` of the webhook body). */
    data: text("data").notNull(),
    /** When webhook deliveries were created for this event; null = not yet fanned out. */
    fannedOutAt: integer("fanned_out_at"),
  },
  (t) => [
    index("events_occurred_at_idx").on(t.occurredAt, t.id),
    index("events_type_idx").on(t.type, t.occurredAt),
    index("events_fan_out_idx").on(t.fannedOutAt, t.occurredAt),
  ],
);

export const webhooks = sqliteTable(
  "webhooks",
  {
    id: text("id").primaryKey(),
    url: text("url").notNull(),
    /** AES-GCM ciphertext of the signing secret (write-only). */
    secretCiphertext: text("secret_ciphertext").notNull(),
    /** AES-GCM ciphertext of the JSON object of extra headers (write-only). */
    headersCiphertext: text("headers_ciphertext"),
    /** JSON array of event types. */
    subscribedEvents: text("subscribed_events").notNull(),
    insertedAt: integer("inserted_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [index("webhooks_inserted_at_idx").on(t.insertedAt, t.id)],
);

/** One event to one webhook: retried until it succeeds or runs out of attempts. */
export const webhookDeliveries = sqliteTable(
  "webhook_deliveries",
  {
    id: text("id").primaryKey(),
    webhookId: text("webhook_id")
      .notNull()
      .references(() => webhooks.id, { onDelete: "cascade" }),
    eventId: text("event_id")
      .notNull()
      .references(() => events.id, { onDelete: "cascade" }),
    eventType: text("event_type").notNull(),
    status: text("status", { enum: ["pending", "succeeded", "failed"] }).notNull(),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: integer("next_attempt_at"),
    lastStatusCode: integer("last_status_code"),
    lastError: text("last_error"),
    insertedAt: integer("inserted_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("webhook_deliveries_event_unique").on(t.webhookId, t.eventId),
    index("webhook_deliveries_due_idx").on(t.status, t.nextAttemptAt),
    index("webhook_deliveries_webhook_idx").on(t.webhookId, t.insertedAt),
  ],
);

/** Every HTTP attempt of a delivery, as it happened. */
export const webhookDeliveryAttempts = sqliteTable(
  "webhook_delivery_attempts",
  {
    id: text("id").primaryKey(),
    deliveryId: text("delivery_id")
      .notNull()
      .references(() => webhookDeliveries.id, { onDelete: "cascade" }),
    attempt: integer("attempt").notNull(),
    statusCode: integer("status_code"),
    durationMs: integer("duration_ms").notNull(),
    error: text("error"),
    attemptedAt: integer("attempted_at").notNull(),
  },
  (t) => [index("webhook_delivery_attempts_delivery_idx").on(t.deliveryId, t.attempt)],
);

export const commands = sqliteTable(
  "commands",
  {
    id: text("id").primaryKey(),
    commandText: text("command_text").notNull(),
    /** The targeting object as given (deduplicated), JSON. */
    targeting: text("targeting").notNull(),
    timeout: integer("timeout"),
    expiredAt: integer("expired_at"),
    insertedAt: integer("inserted_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [index("commands_inserted_at_idx").on(t.insertedAt, t.id)],
);

export const EXECUTION_STATUSES = ["pending", "sent", "completed", "cancelled", "expired"] as const;
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];

export const commandExecutions = sqliteTable(
  "command_executions",
  {
    id: text("id").primaryKey(),
    commandId: text("command_id")
      .notNull()
      .references(() => commands.id, { onDelete: "cascade" }),
    // Executions outlive their node: a deleted node leaves them with node_id NULL.
    nodeId: text("node_id").references(() => nodes.id, { onDelete: "set null" }),
    clusterName: text("cluster_name"),
    targetAll: integer("target_all", { mode: "boolean" }).notNull(),
    commandText: text("command_text").notNull(),
    timeout: integer("timeout"),
    expiredAt: integer("expired_at"),
    status: text("status", { enum: EXECUTION_STATUSES }).notNull(),
    exitCode: integer("exit_code"),
    output: text("output"),
    sentAt: integer("sent_at"),
    completedAt: integer("completed_at"),
    cancelledAt: integer("cancelled_at"),
    /** Set when a cancel was sent to the agent; a later exit code 143 then means `cancelled`. */
    cancelRequestedAt: integer("cancel_requested_at"),
    insertedAt: integer("inserted_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    index("command_executions_node_status_idx").on(t.nodeId, t.status, t.insertedAt),
    index("command_executions_status_inserted_idx").on(t.status, t.insertedAt, t.id),
    index("command_executions_command_idx").on(t.commandId, t.status),
    // A command's or a node's executions in the default order, without a temp B-tree.
    index("command_executions_command_inserted_idx").on(t.commandId, t.insertedAt, t.id),
    index("command_executions_node_inserted_idx").on(t.nodeId, t.insertedAt, t.id),
    index("command_executions_exit_code_idx").on(t.exitCode),
    index("command_executions_completed_at_idx").on(t.completedAt, t.id),
    index("command_executions_inserted_at_idx").on(t.insertedAt, t.id),
    index("command_executions_expiry_idx").on(t.status, t.expiredAt),
  ],
);

export const sshUsernames = sqliteTable(
  "ssh_usernames",
  {
    id: text("id").primaryKey(),
    nodeId: text("node_id")
      .notNull()
      .references(() => nodes.id, { onDelete: "cascade" }),
    username: text("username").notNull(),
    /** Argon2id PHC string; null when the username has keys only. */
    passwordHash: text("password_hash"),
    insertedAt: integer("inserted_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("ssh_usernames_node_username_unique").on(t.nodeId, t.username),
    index("ssh_usernames_inserted_at_idx").on(t.insertedAt, t.id),
  ],
);

export const sshPublicKeys = sqliteTable(
  "ssh_public_keys",
  {
    id: text("id").primaryKey(),
    sshUsernameId: text("ssh_username_id")
      .notNull()
      .references(() => sshUsernames.id, { onDelete: "cascade" }),
    keyName: text("key_name").notNull(),
    /** Normalised `algorithm base64 [comment]`. */
    publicKey: text("public_key").notNull(),
    /** SHA-256 of the decoded key blob, so the same key with another comment is still a duplicate. */
    fingerprint: text("fingerprint").notNull(),
    insertedAt: integer("inserted_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("ssh_public_keys_username_fingerprint_unique").on(t.sshUsernameId, t.fingerprint),
    index("ssh_public_keys_inserted_at_idx").on(t.insertedAt, t.id),
  ],
);

export const selfUpdateRequests = sqliteTable(
  "self_update_requests",
  {
    id: text("id").primaryKey(),
    targeting: text("targeting").notNull(),
    status: text("status", { enum: ["pending", "processing", "completed"] }).notNull(),
    /** JSON `{total, triggered, failed}` once known. */
    summary: text("summary"),
    /** JSON `{version, url, sha256}`: the agent release pinned when the request was created. */
    release: text("release"),
    insertedAt: integer("inserted_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [index("self_update_requests_inserted_at_idx").on(t.insertedAt, t.id)],
);

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
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    index("alerts_started_at_idx").on(t.startedAt, t.id),
    index("alerts_node_status_idx").on(t.nodeId, t.status),
  ],
);
