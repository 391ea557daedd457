import { count, eq } from "drizzle-orm";
import type { Database } from "../db/client";
import { isUniqueViolation } from "../db/errors";
import { aliases, clusters } from "../db/schema";
import { ApiError } from "../errors";
import type { ListQuery } from "../list-query/engine";
import { listPage, type Page } from "../list-query/page";

const columns = {
  id: aliases.id,
  name: aliases.name,
  nodeId: aliases.nodeId,
  insertedAt: aliases.insertedAt,
  updatedAt: aliases.updatedAt,
  clusterName: clusters.name,
  vpnDomain: clusters.vpnDomain,
};

/** The node an alias is created on: its id, its cluster's id and name (for the 409 message). */
export interface AliasOwner {
  id: string;
  clusterId: string;
  clusterName: string;
}

function selectAliases(db: Database) {
  return db.select(columns).from(aliases).innerJoin(clusters, eq(clusters.id, aliases.clusterId));
}

/** An alias with the cluster fields its presentation needs. */
export type AliasRow = Awaited<ReturnType<typeof selectAliases>>[number];

/** The alias with this id, or a 404. */
export async function getAlias(db: Database, id: string): Promise<AliasRow> {
  const [row] = await selectAliases(db).where(eq(aliases.id, id)).limit(1);
  if (!row) throw new ApiError("not_found", "Alias not found");
  return row;
}

/** Creates an alias in the node's cluster; a name the cluster already has is a 409. */
export async function createAlias(db: Database, node: AliasOwner, name: string): Promise<AliasRow> {
  const now = Date.now();
  const id = crypto.randomUUID();
  try {
    await db
      .insert(aliases)
      .values({ id, nodeId: node.id, clusterId: node.clusterId, name, insertedAt: now, updatedAt: now });
  } catch (err) {
    if (isUniqueViolation(err)) {
      throw new ApiError("conflict", `Alias "${name}" already exists in cluster "${node.clusterName}"`, {
        name: ["has already been taken"],
      });
    }
    throw err;
  }
  return getAlias(db, id);
}

/** Deletes the alias with this id, or a 404 when there is none. */
export async function deleteAlias(db: Database, id: string): Promise<void> {
  const deleted = await db.delete(aliases).where(eq(aliases.id, id)).returning({ id: aliases.id });
  if (deleted.length === 0) throw new ApiError("not_found", "Alias not found");
}

/** One page of aliases (`aliasListSpec` filters on the joined cluster). */
export function listAliases(db: Database, q: ListQuery): Promise<Page<AliasRow>> {
  return listPage(
    db,
    q,
    selectAliases(db),
    db.select({ total: count() }).from(aliases).innerJoin(clusters, eq(clusters.id, aliases.clusterId)),
  );
}
