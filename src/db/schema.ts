import { sql } from "drizzle-orm";
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
    /** The cluster's agents' `metrics_detail_interval_seconds`; null = METRICS_DETAIL_INTERVAL_SECONDS. */
    metricsDetailIntervalSeconds: integer("metrics_detail_interval_seconds"),
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
    // Enrolment with this key creates a pending node_registration instead of a node (C18).
    requiresApproval: integer("requires_approval", { mode: "boolean" }).notNull().default(false),
    // "public": minted by the unauthenticated public endpoint (short TTL, capped count, review M1).
    origin: text("origin", { enum: ["api", "public"] })
      .notNull()
      .default("api"),
    lastUsedAt: integer("last_used_at"),
    insertedAt: integer("inserted_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("enrollment_keys_key_hash_unique").on(t.keyHash),
    index("enrollment_keys_cluster_idx").on(t.clusterId),
    index("enrollment_keys_inserted_at_idx").on(t.insertedAt, t.id),
    // The public endpoint counts its unused keys and the cron prunes by expiry.
    index("enrollment_keys_origin_idx").on(t.origin, t.usesRemaining),
    index("enrollment_keys_expired_at_idx").on(t.expiredAt),
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
    // Facts the agent reports in its hello (issue 18); null until an agent that knows them connects.
    arch: text("arch"),
    osVersion: text("os_version"),
    kernel: text("kernel"),
    primaryIp: text("primary_ip"),
    bootId: text("boot_id"),
    // Operator fields. `tags` is the JSON array shown in responses; node_tags holds the same tags for filters.
    displayName: text("display_name"),
    tags: text("tags").notNull().default("[]"),
    notes: text("notes"),
    customUrls: text("custom_urls").notNull().default("[]"),
    ipv4Address: text("ipv4_address"),
    netmakerHostId: text("netmaker_host_id"),
    apiTokenHash: text("api_token_hash").notNull(),
    apiTokenCiphertext: text("api_token_ciphertext").notNull(),
    proxyPasswordCiphertext: text("proxy_password_ciphertext").notNull(),
    selfUpdateEnabled: integer("self_update_enabled", { mode: "boolean" }).notNull().default(true),
    lastSeenAt: integer("last_seen_at"),
    // The latest metrics (issue 19), written at most once a minute with a last_seen_at refresh, so
    // the node list can filter and sort on them; null until an agent reported.
    cpuUsagePercent: real("cpu_usage_percent"),
    memoryUsagePercent: real("memory_usage_percent"),
    diskUsagePercent: real("disk_usage_percent"),
    load1m: real("load_1m"),
    metricsAt: integer("metrics_at"),
    // Set by revoke_token (the hash then matches no known token): the node may enrol again
    // without its old token, into its own cluster only.
    tokenRevokedAt: integer("token_revoked_at"),
    insertedAt: integer("inserted_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("nodes_api_token_hash_unique").on(t.apiTokenHash),
    uniqueIndex("nodes_cluster_ipv4_unique").on(t.clusterId, t.ipv4Address),
    index("nodes_last_seen_at_idx").on(t.lastSeenAt),
    index("nodes_cpu_usage_idx").on(t.cpuUsagePercent, t.id),
    index("nodes_memory_usage_idx").on(t.memoryUsagePercent, t.id),
    index("nodes_disk_usage_idx").on(t.diskUsagePercent, t.id),
    index("nodes_load_1m_idx").on(t.load1m, t.id),
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
    /** When notification deliveries were created for this event; null = not yet (its own marker: webhooks and channels fan out independently). */
    notifiedAt: integer("notified_at"),
  },
  (t) => [
    index("events_occurred_at_idx").on(t.occurredAt, t.id),
    index("events_type_idx").on(t.type, t.occurredAt),
    index("events_fan_out_idx").on(t.fannedOutAt, t.occurredAt),
    index("events_notify_idx").on(t.notifiedAt, t.occurredAt),
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
    /** A rollout's window as given: a count ("2") or a share of the targets ("10%"); null = all at once. */
    maxConcurrency: text("max_concurrency"),
    /** A rollout's error budget as given ("0", "10%"); null = never stop. */
    maxErrors: text("max_errors"),
    /** `max_concurrency` resolved against the target count when the command was created. */
    concurrencyLimit: integer("concurrency_limit"),
    /** `max_errors` resolved against the target count; the rollout stops once errors exceed it. */
    errorLimit: integer("error_limit"),
    rolloutOrder: text("rollout_order", { enum: ["oldest", "random"] }),
    /** Null for a command sent to every target at once. */
    rolloutStatus: text("rollout_status", {
      enum: ["running", "paused", "completed", "stopped", "cancelled"],
    }),
    rolloutReason: text("rollout_reason"),
    insertedAt: integer("inserted_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    index("commands_inserted_at_idx").on(t.insertedAt, t.id),
    index("commands_rollout_status_idx").on(t.rolloutStatus),
  ],
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
    /** When the agent started the process (as it reported), else when it was sent. */
    startedAt: integer("started_at"),
    durationMs: integer("duration_ms"),
    /** A rollout's execution waiting for a slot: `pending` but not delivered until released. */
    held: integer("held", { mode: "boolean" }).notNull().default(false),
    /** Position in its command's rollout order (0 first). */
    rolloutRank: integer("rollout_rank"),
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
    index("command_executions_rollout_idx").on(t.commandId, t.held, t.rolloutRank),
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
    /** A rollout's limits as given (`max_concurrency` "2" or "10%"), resolved when it starts. */
    maxConcurrency: text("max_concurrency"),
    maxErrors: text("max_errors"),
    concurrencyLimit: integer("concurrency_limit"),
    errorLimit: integer("error_limit"),
    rolloutOrder: text("rollout_order"),
    /** Set once the rollout's targets are written: running, completed, stopped. */
    rolloutStatus: text("rollout_status"),
    rolloutReason: text("rollout_reason"),
    insertedAt: integer("inserted_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    index("self_update_requests_inserted_at_idx").on(t.insertedAt, t.id),
    index("self_update_requests_rollout_idx").on(t.rolloutStatus),
  ],
);

export const SELF_UPDATE_TARGET_STATUSES = ["waiting", "updating", "updated", "failed", "cancelled"] as const;

/**
 * One node of a self-update rollout: `waiting` for a slot, `updating` (told; the slot is taken until
 * its agent says hello on the release's version), then `updated`, `failed` (not connected, or not
 * back on the version in time) or `cancelled` (the rollout stopped on errors).
 */
export const selfUpdateTargets = sqliteTable(
  "self_update_targets",
  {
    requestId: text("request_id")
      .notNull()
      .references(() => selfUpdateRequests.id, { onDelete: "cascade" }),
    nodeId: text("node_id").notNull(),
    rank: integer("rank").notNull(),
    status: text("status", { enum: SELF_UPDATE_TARGET_STATUSES }).notNull(),
    fromVersion: text("from_version"),
    triggeredAt: integer("triggered_at"),
    finishedAt: integer("finished_at"),
    error: text("error"),
  },
  (t) => [
    primaryKey({ columns: [t.requestId, t.nodeId] }),
    index("self_update_targets_rank_idx").on(t.requestId, t.status, t.rank),
    index("self_update_targets_node_idx").on(t.nodeId, t.status),
  ],
);

// Users, roles, sessions, API tokens and the audit log (issue 17).
export * from "./schema-access";

// What Outpost knows about each machine (issue 18). Fleet-wide filters ("nodes tagged web",
// "nodes with openssl 3.0.2", "nodes with security updates") read these tables, so they live in
// libSQL; every write is conditional on a changed content hash, so a steady fleet writes nothing.

/** One row per tag of a node; `nodes.tags` keeps the same list for responses. */
export const nodeTags = sqliteTable(
  "node_tags",
  {
    nodeId: text("node_id")
      .notNull()
      .references(() => nodes.id, { onDelete: "cascade" }),
    tag: text("tag").notNull(),
  },
  (t) => [primaryKey({ columns: [t.nodeId, t.tag] }), index("node_tags_tag_idx").on(t.tag, t.nodeId)],
);

export const INVENTORY_SECTION_STATUSES = ["ok", "unavailable"] as const;

/** The newest report of each inventory section of a node, as the agent sent it. */
export const nodeInventory = sqliteTable(
  "node_inventory",
  {
    nodeId: text("node_id")
      .notNull()
      .references(() => nodes.id, { onDelete: "cascade" }),
    section: text("section").notNull(),
    status: text("status", { enum: INVENTORY_SECTION_STATUSES }).notNull(),
    /** Why the section is unavailable (no package manager, permission denied, timed out…). */
    reason: text("reason"),
    /** SHA-256 (hex) of the section's canonical JSON, computed by the agent. */
    contentHash: text("content_hash").notNull(),
    /** JSON; for `software` a summary only (the packages are rows of node_packages). */
    data: text("data").notNull(),
    /** When the agent collected the content now stored. */
    collectedAt: integer("collected_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.nodeId, t.section] })],
);

/** The `software` section, one row per installed package, for fleet search and node filters. */
export const nodePackages = sqliteTable(
  "node_packages",
  {
    nodeId: text("node_id")
      .notNull()
      .references(() => nodes.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    version: text("version").notNull(),
    architecture: text("architecture").notNull(),
    status: text("status").notNull(),
    /** dpkg | rpm | apk | pacman */
    source: text("source").notNull(),
    description: text("description"),
    installedAt: integer("installed_at"),
  },
  (t) => [
    primaryKey({ columns: [t.nodeId, t.name, t.architecture, t.version] }),
    // Fleet search groups by name and version; the node filter probes (name, version, node).
    index("node_packages_name_version_idx").on(t.name, t.version, t.nodeId),
  ],
);

/** The counts of a node's `updates` section, for fleet filters and the updates summary. */
export const nodeUpdates = sqliteTable(
  "node_updates",
  {
    nodeId: text("node_id")
      .primaryKey()
      .references(() => nodes.id, { onDelete: "cascade" }),
    packageManager: text("package_manager"),
    pendingCount: integer("pending_count").notNull(),
    securityCount: integer("security_count").notNull(),
    rebootRequired: integer("reboot_required", { mode: "boolean" }).notNull(),
    checkedAt: integer("checked_at").notNull(),
  },
  (t) => [
    index("node_updates_pending_idx").on(t.pendingCount),
    index("node_updates_security_idx").on(t.securityCount),
  ],
);

/** A fleet-wide "collect inventory now", tracked like a self-update request. */
export const inventoryRefreshRequests = sqliteTable(
  "inventory_refresh_requests",
  {
    id: text("id").primaryKey(),
    /** The targeting object as given, JSON. */
    targeting: text("targeting").notNull(),
    /** JSON array of section names; empty = every section. */
    sections: text("sections").notNull(),
    refreshCache: integer("refresh_cache", { mode: "boolean" }).notNull(),
    insertedAt: integer("inserted_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [index("inventory_refresh_requests_inserted_at_idx").on(t.insertedAt, t.id)],
);

export const REFRESH_TARGET_STATUSES = ["queued", "requested", "answered", "offline", "unsupported"] as const;

/**
 * One targeted node of a refresh request: not asked yet (`queued`: a large fleet is asked a batch
 * per cron tick), asked (`requested`), `answered`, not connected (`offline`), or an agent without
 * inventory (`unsupported`).
 */
export const inventoryRefreshTargets = sqliteTable(
  "inventory_refresh_targets",
  {
    requestId: text("request_id")
      .notNull()
      .references(() => inventoryRefreshRequests.id, { onDelete: "cascade" }),
    nodeId: text("node_id").notNull(),
    status: text("status", { enum: REFRESH_TARGET_STATUSES }).notNull(),
    answeredAt: integer("answered_at"),
  },
  (t) => [
    primaryKey({ columns: [t.requestId, t.nodeId] }),
    index("inventory_refresh_targets_node_idx").on(t.nodeId, t.status),
    // The cron finds the next batch to ask without reading the targets already settled.
    index("inventory_refresh_targets_queued_idx").on(t.requestId).where(sql`${t.status} = 'queued'`),
  ],
);

/** Node ids refused at enrolment (403) after `DELETE /api/v1/nodes/{id}?block_reenroll=true`. */
export const nodeTombstones = sqliteTable(
  "node_tombstones",
  {
    nodeId: text("node_id").primaryKey(),
    clusterName: text("cluster_name"),
    hostname: text("hostname"),
    insertedAt: integer("inserted_at").notNull(),
  },
  (t) => [index("node_tombstones_inserted_at_idx").on(t.insertedAt, t.nodeId)],
);

/**
 * Enrolments waiting for an administrator (keys with `requires_approval`, C18). The agent polls
 * with `poll_secret` (only its SHA-256 is kept); approval creates the node and stores its token
 * encrypted here until the agent collects it once.
 */
export const nodeRegistrations = sqliteTable(
  "node_registrations",
  {
    id: text("id").primaryKey(),
    clusterId: text("cluster_id")
      .notNull()
      .references(() => clusters.id, { onDelete: "cascade" }),
    enrollmentKeyId: text("enrollment_key_id"),
    proposedNodeId: text("proposed_node_id").notNull(),
    idType: text("id_type", { enum: ["persistent", "random"] }).notNull(),
    hostname: text("hostname").notNull(),
    platform: text("platform"),
    arch: text("arch"),
    agentVersion: text("agent_version"),
    ip: text("ip"),
    status: text("status", { enum: ["pending", "approved", "rejected", "expired"] })
      .notNull()
      .default("pending"),
    pollSecretHash: text("poll_secret_hash").notNull(),
    // The approved node's token, AES-GCM encrypted, cleared once the agent has collected it.
    apiTokenCiphertext: text("api_token_ciphertext"),
    decidedBy: text("decided_by"),
    decidedAt: integer("decided_at"),
    insertedAt: integer("inserted_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    index("node_registrations_inserted_at_idx").on(t.insertedAt, t.id),
    index("node_registrations_status_idx").on(t.status, t.insertedAt),
  ],
);

// Alert rules, alerts, silences and notification channels (issue 19).
export * from "./schema-alerts";

/**
 * Power actions (C9): each is a typed command (`command_id`) with one execution on its node, which
 * schedules the reboot or power-off on the machine; this row keeps what was asked and when it is due.
 */
export const powerActions = sqliteTable(
  "power_actions",
  {
    id: text("id").primaryKey(),
    nodeId: text("node_id").references(() => nodes.id, { onDelete: "set null" }),
    commandId: text("command_id")
      .notNull()
      .references(() => commands.id, { onDelete: "cascade" }),
    executionId: text("execution_id").notNull(),
    action: text("action", { enum: ["reboot", "shutdown"] }).notNull(),
    delaySeconds: integer("delay_seconds").notNull(),
    force: integer("force", { mode: "boolean" }).notNull(),
    message: text("message"),
    /** The systemd unit (`<unit>.timer`) that schedules it on the machine, to cancel it by. */
    unit: text("unit").notNull(),
    scheduledAt: integer("scheduled_at").notNull(),
    cancelledAt: integer("cancelled_at"),
    /** A reboot confirmed by the node's next hello with another boot id. */
    confirmedAt: integer("confirmed_at"),
    previousBootId: text("previous_boot_id"),
    downtimeSeconds: integer("downtime_seconds"),
    insertedAt: integer("inserted_at").notNull(),
  },
  (t) => [
    index("power_actions_node_idx").on(t.nodeId, t.insertedAt),
    index("power_actions_scheduled_idx").on(t.scheduledAt, t.id),
    index("power_actions_inserted_idx").on(t.insertedAt, t.id),
  ],
);

export const REBOOT_ORCHESTRATION_STATUSES = [
  "pending",
  "shutting_down",
  "rebooting",
  "waiting_for_agent",
  "restarting_children",
  "completed",
  "failed",
  "cancelled",
] as const;

/**
 * Orchestrated reboots of a parent with child hosts (C10). The parent's NodeSession drives each one
 * with its alarm; every step is a typed command (stop the children, the reboot as a power action,
 * start them again), so the agent's journal keeps any step from running twice.
 */
export const rebootOrchestrations = sqliteTable(
  "reboot_orchestrations",
  {
    id: text("id").primaryKey(),
    nodeId: text("node_id").references(() => nodes.id, { onDelete: "set null" }),
    status: text("status", { enum: REBOOT_ORCHESTRATION_STATUSES }).notNull(),
    /** JSON `[{id, child_name, child_type, pre_reboot_status}]`: the children running when it began. */
    childHostsSnapshot: text("child_hosts_snapshot").notNull(),
    /** JSON `[{id, child_name, restart_status, error}]`, one per snapshot child. */
    childHostsRestartStatus: text("child_hosts_restart_status").notNull(),
    shutdownTimeoutSeconds: integer("shutdown_timeout_seconds").notNull(),
    forceStopOnTimeout: integer("force_stop_on_timeout", { mode: "boolean" }).notNull(),
    initiatedBy: text("initiated_by").notNull(),
    initiatedAt: integer("initiated_at").notNull(),
    shutdownCompletedAt: integer("shutdown_completed_at"),
    rebootIssuedAt: integer("reboot_issued_at"),
    agentReconnectedAt: integer("agent_reconnected_at"),
    restartCompletedAt: integer("restart_completed_at"),
    errorMessage: text("error_message"),
    /** The step commands (no foreign keys: a command deleted later leaves the record readable). */
    stopCommandId: text("stop_command_id"),
    powerActionId: text("power_action_id"),
    startCommandId: text("start_command_id"),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    index("reboot_orchestrations_node_idx").on(t.nodeId, t.initiatedAt),
    index("reboot_orchestrations_initiated_idx").on(t.initiatedAt, t.id),
    index("reboot_orchestrations_status_idx").on(t.status, t.initiatedAt),
    // One orchestration in flight per node: a second one is a conflict the database itself refuses.
    uniqueIndex("reboot_orchestrations_active_unique")
      .on(t.nodeId)
      .where(sql`status NOT IN ('completed', 'failed', 'cancelled')`),
  ],
);
