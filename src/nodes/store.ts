import { count, eq } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { Database } from "../db/client";
import { clusters, nodes } from "../db/schema";
import { ApiError } from "../errors";
import { cancelForDeletedNode } from "../executions/lifecycle";
import type { ListQuery } from "../list-query/engine";
import { listPage, type Page } from "../list-query/page";

/** A node with its cluster's name and VPN domain, which its response shows. */
export type NodeRow = typeof nodes.$inferSelect & { clusterName: string; vpnDomain: string };

/** Selects nodes joined with their cluster's name and VPN domain. */
export function selectNodes(db: Database) {
  return db
    .select({ node: nodes, clusterName: clusters.name, vpnDomain: clusters.vpnDomain })
    .from(nodes)
    .innerJoin(clusters, eq(clusters.id, nodes.clusterId));
}

/** Flattens a `selectNodes` row. */
export function toNodeRow(r: {
  node: typeof nodes.$inferSelect;
  clusterName: string;
  vpnDomain: string;
}): NodeRow {
  return { ...r.node, clusterName: r.clusterName, vpnDomain: r.vpnDomain };
}

/** Throws 404 unless the node exists (a primary-key probe: no join, no row to build). */
export async function assertNodeExists(db: Database, id: string): Promise<void> {
  const [row] = await db.select({ id: nodes.id }).from(nodes).where(eq(nodes.id, id)).limit(1);
  if (!row) throw new ApiError("not_found", "Node not found");
}

/** Loads one node with its cluster, or throws 404. */
export async function getNode(db: Database, id: string): Promise<NodeRow> {
  const [row] = await selectNodes(db).where(eq(nodes.id, id)).limit(1);
  if (!row) throw new ApiError("not_found", "Node not found");
  return toNodeRow(row);
}

/** One page of nodes for the list endpoint (the join lets filters and sorts use the cluster name). */
export async function listNodes(db: Database, q: ListQuery): Promise<Page<NodeRow>> {
  const page = await listPage(
    db,
    q,
    selectNodes(db),
    db.select({ total: count() }).from(nodes).innerJoin(clusters, eq(clusters.id, nodes.clusterId)),
  );
  return { rows: page.rows.map(toNodeRow), pagination: page.pagination };
}

/** Turns self-update on or off for a node; 404 when there is no such node. */
export async function setSelfUpdateEnabled(db: Database, id: string, enabled: boolean): Promise<void> {
  const updated = await db
    .update(nodes)
    .set({ selfUpdateEnabled: enabled, updatedAt: Date.now() })
    .where(eq(nodes.id, id))
    .returning({ id: nodes.id });
  if (updated.length === 0) throw new ApiError("not_found", "Node not found");
}

/**
 * Deletes a node (its aliases go by cascade); 404 when there is no such node. Its live executions end
 * `cancelled` in the same batch, so none is left stuck without a node.
 */
export async function deleteNode(db: Database, id: string, audit: BatchItem<"sqlite">[] = []): Promise<void> {
  const [, , deleted] = await db.batch([
    ...cancelForDeletedNode(db, id),
    db.delete(nodes).where(eq(nodes.id, id)).returning({ id: nodes.id }),
    ...audit,
  ]);
  if (deleted.length === 0) throw new ApiError("not_found", "Node not found");
}
