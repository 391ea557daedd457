import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

// Principals other than the API/master key (users, their sessions, scoped API tokens) and the signed
// audit log. Re-exported by schema.ts so drizzle-kit sees one schema. Timestamps are epoch ms.

/** A named set of permissions (`<resource>:<action>` patterns, JSON array). System roles are immutable. */
export const roles = sqliteTable(
  "roles",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    description: text("description"),
    /** JSON array of permission patterns. */
    permissions: text("permissions").notNull(),
    isSystem: integer("is_system", { mode: "boolean" }).notNull().default(false),
    insertedAt: integer("inserted_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [uniqueIndex("roles_name_unique").on(t.name), index("roles_inserted_at_idx").on(t.insertedAt, t.id)],
);

/** An operator who logs in with a password. Never hard-deleted: audit events refer to users. */
export const users = sqliteTable(
  "users",
  {
    id: text("id").primaryKey(),
    username: text("username").notNull(),
    email: text("email"),
    /** Argon2id PHC string. */
    passwordHash: text("password_hash").notNull(),
    authProvider: text("auth_provider").notNull().default("local"),
    disabled: integer("disabled", { mode: "boolean" }).notNull().default(false),
    lastLoginAt: integer("last_login_at"),
    insertedAt: integer("inserted_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("users_username_unique").on(t.username),
    index("users_inserted_at_idx").on(t.insertedAt, t.id),
  ],
);

export const userRoles = sqliteTable(
  "user_roles",
  {
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    roleId: text("role_id")
      .notNull()
      .references(() => roles.id, { onDelete: "restrict" }),
  },
  (t) => [primaryKey({ columns: [t.userId, t.roleId] }), index("user_roles_role_idx").on(t.roleId)],
);

/** A login: the opaque token is only ever stored as its SHA-256. */
export const sessions = sqliteTable(
  "sessions",
  {
    id: text("id").primaryKey(),
    tokenHash: text("token_hash").notNull(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    expiresAt: integer("expires_at").notNull(),
    lastUsedAt: integer("last_used_at"),
    ip: text("ip"),
    userAgent: text("user_agent"),
    insertedAt: integer("inserted_at").notNull(),
  },
  (t) => [
    uniqueIndex("sessions_token_hash_unique").on(t.tokenHash),
    index("sessions_user_idx").on(t.userId),
    index("sessions_expires_at_idx").on(t.expiresAt),
  ],
);

/** Failed logins per key (`user:<name>` or `ip:<address>`) in the current window, and the lock they caused. */
export const loginThrottle = sqliteTable("login_throttle", {
  key: text("key").primaryKey(),
  failures: integer("failures").notNull(),
  windowStartedAt: integer("window_started_at").notNull(),
  lockedUntil: integer("locked_until"),
});

/** A scoped, long-lived credential (`otp_…`), stored as its SHA-256. */
export const apiTokens = sqliteTable(
  "api_tokens",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    tokenHash: text("token_hash").notNull(),
    /** The first characters of the secret, shown so an operator can recognise a token. */
    prefix: text("prefix").notNull(),
    /** JSON array of permission patterns. */
    scopes: text("scopes").notNull(),
    /** JSON array of cluster names; null = every cluster. */
    clusterNames: text("cluster_names"),
    expiresAt: integer("expires_at"),
    lastUsedAt: integer("last_used_at"),
    lastUsedIp: text("last_used_ip"),
    /** `api_key` or `user`, and the user's id; tokens of a disabled user stop working. */
    createdByType: text("created_by_type").notNull(),
    createdById: text("created_by_id"),
    createdByName: text("created_by_name").notNull(),
    revokedAt: integer("revoked_at"),
    insertedAt: integer("inserted_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("api_tokens_token_hash_unique").on(t.tokenHash),
    index("api_tokens_creator_idx").on(t.createdById),
    index("api_tokens_inserted_at_idx").on(t.insertedAt, t.id),
  ],
);

/**
 * The audit log. Rows are inserted in the same batch as the change they record, with `seq` the next
 * number; `hash` (SHA-256 of the canonical JSON, which includes `prev_hash`) and `signature` (HMAC
 * with AUDIT_SIGNING_KEY) are sealed right after, in `seq` order.
 */
export const auditEvents = sqliteTable(
  "audit_events",
  {
    id: text("id").primaryKey(),
    seq: integer("seq").notNull(),
    occurredAt: integer("occurred_at").notNull(),
    event: text("event").notNull(),
    actorType: text("actor_type").notNull(),
    actorId: text("actor_id"),
    actorName: text("actor_name"),
    ip: text("ip"),
    userAgent: text("user_agent"),
    method: text("method"),
    path: text("path"),
    requestId: text("request_id"),
    statusCode: integer("status_code"),
    success: integer("success", { mode: "boolean" }).notNull(),
    resourceType: text("resource_type"),
    resourceId: text("resource_id"),
    /** JSON object, secrets redacted. */
    details: text("details"),
    prevHash: text("prev_hash"),
    hash: text("hash"),
    signature: text("signature"),
  },
  (t) => [
    uniqueIndex("audit_events_seq_unique").on(t.seq),
    index("audit_events_occurred_at_idx").on(t.occurredAt, t.seq),
    index("audit_events_event_idx").on(t.event, t.seq),
    index("audit_events_resource_idx").on(t.resourceId),
    index("audit_events_unsealed_idx").on(t.hash, t.seq),
  ],
);

/** One row (`id = 1`): the last pruned audit event, so the chain stays verifiable after retention. */
export const auditCheckpoint = sqliteTable("audit_checkpoint", {
  id: integer("id").primaryKey(),
  lastSeq: integer("last_seq").notNull(),
  lastHash: text("last_hash").notNull(),
  prunedAt: integer("pruned_at").notNull(),
});
