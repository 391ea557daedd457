import { and, type SQL, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { clusters, nodes } from "../db/schema";
import type { FilterDef } from "../list-query/filters";
import { CLUSTER_FILTERS, NODE_FILTERS, type Targeting } from "./schema";

async function conditions(defs: Record<string, FilterDef>, values: Record<string, unknown> = {}) {
  const out: SQL[] = [];
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined) continue;
    const def = defs[key];
    // A stored targeting passed the schema; a key or value it no longer accepts selects nothing.
    if (!def) return null;
    const parsed = def.parse(String(value));
    if ("error" in parsed) return null;
    out.push(await def.toSql(parsed.value));
  }
  return out;
}

function hasFilters(t: Targeting): boolean {
  return Object.keys(t.node_filters ?? {}).length > 0 || Object.keys(t.cluster_filters ?? {}).length > 0;
}

/**
 * Whether a targeting selects one node, with the same filters (and the same SQL) as the commands'
 * targeting resolver; an unknown node id or cluster name just selects nothing. Targetings without
 * filters are decided without a query.
 * @example await targetingSelectsNode(db, { type: "clusters", cluster_names: ["eu"] }, nodeId, "eu")
 */
export async function targetingSelectsNode(
  db: Database,
  targeting: Targeting,
  nodeId: string,
  clusterName: string | null,
): Promise<boolean> {
  if (targeting.type === "nodes" && !(targeting.node_ids ?? []).includes(nodeId)) return false;
  if (targeting.type === "clusters") {
    if (clusterName === null || !(targeting.cluster_names ?? []).includes(clusterName)) return false;
  }
  if (!hasFilters(targeting)) return clusterName !== null;
  const nodeConds = await conditions(NODE_FILTERS, targeting.node_filters);
  const clusterConds = await conditions(CLUSTER_FILTERS, targeting.cluster_filters);
  if (!nodeConds || !clusterConds) return false;
  const where = and(sql`${nodes.id} = ${nodeId}`, ...nodeConds, ...clusterConds);
  const rows = await db.all<{ one: number }>(sql`
    SELECT 1 AS one FROM ${nodes} INNER JOIN ${clusters} ON ${clusters.id} = ${nodes.clusterId}
     WHERE ${where} LIMIT 1`);
  return rows.length > 0;
}
