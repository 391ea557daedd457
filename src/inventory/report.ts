import { eq, sql } from "drizzle-orm";
import * as v from "valibot";
import type { Database } from "../db/client";
import { inventoryRefreshTargets, nodeInventory, nodePackages, nodeUpdates } from "../db/schema";
import { recordEvent } from "../events/outbox";
import type { InventoryFrame } from "../protocol/inventory-frames";
import { SoftwareData, UpdatesData } from "../protocol/inventory-sections";

/** One `inventory` frame as the server received it (validated against the catalog). */
export type InventoryReport = v.InferOutput<typeof InventoryFrame>;

// Rows per multi-row INSERT of packages: 8 parameters each stays far below SQLite's variable limit.
const PACKAGE_ROWS_PER_INSERT = 200;

function epochOrNull(iso: string | null | undefined): number | null {
  if (!iso) return null;
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? ms : null;
}

// What node_inventory keeps of a section: the packages go to node_packages, so `software` keeps a summary.
function storedData(report: InventoryReport): Record<string, unknown> {
  if (report.status !== "ok" || !report.data) return {};
  if (report.section === "software") {
    const software = v.parse(SoftwareData, report.data);
    return { package_manager: software.package_manager, total_packages: software.packages.length };
  }
  return report.data;
}

function packageStatements(db: Database, nodeId: string, report: InventoryReport) {
  const statements = [db.delete(nodePackages).where(eq(nodePackages.nodeId, nodeId))];
  if (report.status !== "ok" || !report.data) return statements;
  const software = v.parse(SoftwareData, report.data);
  // One row per (name, architecture, version): a duplicate line in a package db must not fail the batch.
  const unique = new Map<string, typeof nodePackages.$inferInsert>();
  for (const p of software.packages) {
    unique.set(`${p.name}\u0000${p.architecture}\u0000${p.version}`, {
      nodeId,
      name: p.name,
      version: p.version,
      architecture: p.architecture,
      status: p.status,
      source: software.package_manager,
      description: p.description ?? null,
      installedAt: epochOrNull(p.installed_at),
    });
  }
  const rows = [...unique.values()];
  for (let i = 0; i < rows.length; i += PACKAGE_ROWS_PER_INSERT) {
    statements.push(db.insert(nodePackages).values(rows.slice(i, i + PACKAGE_ROWS_PER_INSERT)) as never);
  }
  return statements;
}

function updatesStatement(db: Database, nodeId: string, report: InventoryReport) {
  if (report.status !== "ok" || !report.data) {
    return db.delete(nodeUpdates).where(eq(nodeUpdates.nodeId, nodeId));
  }
  const updates = v.parse(UpdatesData, report.data);
  const row = {
    nodeId,
    packageManager: updates.package_manager,
    pendingCount: updates.pending_count,
    securityCount: updates.security_count,
    rebootRequired: updates.reboot_required,
    checkedAt: epochOrNull(updates.checked_at) ?? report.collected_at,
  };
  return db.insert(nodeUpdates).values(row).onConflictDoUpdate({ target: nodeUpdates.nodeId, set: row });
}

/** Marks a refresh request's target as answered (a no-op for a request that did not target the node). */
export function answerRefreshStatement(db: Database, nodeId: string, requestId: string, now: number) {
  return db
    .update(inventoryRefreshTargets)
    .set({ status: "answered", answeredAt: now })
    .where(
      sql`${inventoryRefreshTargets.requestId} = ${requestId} AND ${inventoryRefreshTargets.nodeId} = ${nodeId} AND ${inventoryRefreshTargets.status} != 'answered'`,
    );
}

/**
 * Stores a section whose content hash changed, in one batch: the section row, its normalised rows
 * (packages, update counts), the `edge.node.inventory_changed` event and, when it answers a
 * refresh request, the target's `answered`. The caller skips this entirely for an unchanged hash.
 */
export async function storeChangedSection(
  db: Database,
  nodeId: string,
  report: InventoryReport,
  now = Date.now(),
): Promise<void> {
  const row = {
    nodeId,
    section: report.section,
    status: report.status,
    reason: report.status === "unavailable" ? (report.reason ?? "unavailable") : null,
    contentHash: report.content_hash,
    data: JSON.stringify(storedData(report)),
    collectedAt: report.collected_at,
    updatedAt: now,
  };
  const statements = [
    db
      .insert(nodeInventory)
      .values(row)
      .onConflictDoUpdate({ target: [nodeInventory.nodeId, nodeInventory.section], set: row }),
    ...(report.section === "software" ? packageStatements(db, nodeId, report) : []),
    ...(report.section === "updates" ? [updatesStatement(db, nodeId, report)] : []),
    recordEvent(db, "edge.node.inventory_changed", { node_id: nodeId, sections: [report.section] }, now),
    ...(report.request_id ? [answerRefreshStatement(db, nodeId, report.request_id, now)] : []),
  ];
  // drizzle types batch() by a non-empty tuple of its builders; these are those builders.
  await db.batch(statements as never);
}

/** The content hash of every section stored for a node, for the agent's `known_hashes`. */
export async function storedHashes(db: Database, nodeId: string): Promise<Record<string, string>> {
  const rows = await db
    .select({ section: nodeInventory.section, hash: nodeInventory.contentHash })
    .from(nodeInventory)
    .where(eq(nodeInventory.nodeId, nodeId));
  return Object.fromEntries(rows.map((r) => [r.section, r.hash]));
}
