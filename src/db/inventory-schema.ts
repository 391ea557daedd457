import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { nodes } from "./schema";

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

export const REFRESH_TARGET_STATUSES = ["requested", "answered", "offline"] as const;

/** One targeted node of a refresh request: asked (`requested`), not connected (`offline`), or `answered`. */
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
  ],
);
