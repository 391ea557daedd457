import { sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { clusters, nodes } from "../db/schema";
import { UNLIMITED } from "./limits";

/** A cluster (by name) and the ids of its nodes. */
export interface ClusterNodes {
  name: string;
  nodeIds: string[];
}

/** Every cluster (by name) with its node ids (oldest first). */
export async function clusterNodes(db: Database): Promise<ClusterNodes[]> {
  const rows = await db.all<{ name: string; node_ids: string }>(sql`
    SELECT c.name AS name,
           coalesce((SELECT json_group_array(id) FROM (SELECT n.id FROM ${nodes} n WHERE n.cluster_id = c.id
                       ORDER BY n.inserted_at, n.id)), '[]') AS node_ids
      FROM ${clusters} c ORDER BY c.name`);
  return rows.map((r) => ({ name: r.name, nodeIds: JSON.parse(r.node_ids) as string[] }));
}

/**
 * The seed's sharding: clusters (by name) are assigned while the admin's capacity holds their
 * nodes; the rest are orphaned. With Outpost's unlimited capacity nothing is ever orphaned.
 */
export function assignClusters(all: ClusterNodes[], capacity = UNLIMITED) {
  const assigned: ClusterNodes[] = [];
  const orphaned: ClusterNodes[] = [];
  let used = 0;
  for (const cluster of all) {
    if (used + cluster.nodeIds.length <= capacity) {
      used += cluster.nodeIds.length;
      assigned.push(cluster);
    } else orphaned.push(cluster);
  }
  return { assigned, orphaned };
}

/** `{cluster name: [node ids]}`, the seed's shape for cluster assignments. */
export const asMap = (list: ClusterNodes[]) => Object.fromEntries(list.map((c) => [c.name, c.nodeIds]));
