import { and, count, eq, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { nodeInventory, nodePackages } from "../db/schema";
import { ApiError } from "../errors";
import { type ListQuery, paginate } from "../list-query/engine";
import { listPage, type Page } from "../list-query/page";
import type { InventorySection } from "../protocol/inventory-sections";

export type InventoryRow = typeof nodeInventory.$inferSelect;
export type PackageRow = typeof nodePackages.$inferSelect;

/** Every stored section of a node, in no particular order. */
export function listSections(db: Database, nodeId: string): Promise<InventoryRow[]> {
  return db.select().from(nodeInventory).where(eq(nodeInventory.nodeId, nodeId));
}

/** One stored section, or 404 when the node has not reported it. */
export async function getSection(
  db: Database,
  nodeId: string,
  section: InventorySection,
): Promise<InventoryRow> {
  const [row] = await db
    .select()
    .from(nodeInventory)
    .where(and(eq(nodeInventory.nodeId, nodeId), eq(nodeInventory.section, section)))
    .limit(1);
  if (!row) throw new ApiError("not_found", `The node has not reported its ${section} inventory yet`);
  return row;
}

/** One page of a node's packages. */
export function listNodePackages(db: Database, q: ListQuery, nodeId: string): Promise<Page<PackageRow>> {
  const where = and(eq(nodePackages.nodeId, nodeId), q.where);
  return listPage(
    db,
    q,
    db.select().from(nodePackages),
    db.select({ total: count() }).from(nodePackages),
    where,
  );
}

/** A row of the fleet software search. */
export interface FleetPackageRow {
  name: string;
  version: string;
  architectures: string;
  node_count: number;
}

/**
 * One page of the fleet's packages grouped by (name, version), with how many nodes have each; the
 * page and the number of groups in one batch. The (name, version, node) index serves the grouping.
 */
export async function listFleetPackages(db: Database, q: ListQuery): Promise<Page<FleetPackageRow>> {
  const where = q.where ? sql`WHERE ${q.where}` : sql``;
  const grouped = sql`SELECT ${nodePackages.name} AS name, ${nodePackages.version} AS version,
      group_concat(DISTINCT ${nodePackages.architecture}) AS architectures,
      count(DISTINCT ${nodePackages.nodeId}) AS node_count
    FROM ${nodePackages} ${where} GROUP BY ${nodePackages.name}, ${nodePackages.version}`;
  const [rows, total] = await db.batch([
    db.all<FleetPackageRow>(
      sql`SELECT * FROM (${grouped}) ORDER BY ${sql.join(q.orderBy, sql`, `)} LIMIT ${q.limit} OFFSET ${q.offset}`,
    ),
    db.all<{ total: number }>(
      sql`SELECT count(*) AS total FROM (SELECT 1 FROM ${nodePackages} ${where} GROUP BY ${nodePackages.name}, ${nodePackages.version})`,
    ),
  ]);
  return {
    rows: rows as FleetPackageRow[],
    pagination: paginate(Number((total as { total: number }[])[0]?.total ?? 0), q.page, q.pageSize),
  };
}
