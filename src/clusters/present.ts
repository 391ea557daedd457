import { inArray } from "drizzle-orm";
import type { Database } from "../db/client";
import { nodes } from "../db/schema";
import { isoSeconds } from "../time";
import type { ClusterResponse } from "./schema";
import type { ClusterRow } from "./store";

type Member = { id: string; idType: string; status: string; nodeName: string; clusterId: string };

// Every member node of the given clusters, in one query, grouped by cluster id.
async function membersByCluster(db: Database, clusterIds: string[]): Promise<Map<string, Member[]>> {
  const members = await db
    .select({
      id: nodes.id,
      idType: nodes.idType,
      status: nodes.status,
      nodeName: nodes.nodeName,
      clusterId: nodes.clusterId,
    })
    .from(nodes)
    .where(inArray(nodes.clusterId, clusterIds))
    .orderBy(nodes.insertedAt, nodes.id);
  const byCluster = new Map<string, Member[]>();
  for (const m of members) {
    const list = byCluster.get(m.clusterId) ?? [];
    list.push(m);
    byCluster.set(m.clusterId, list);
  }
  return byCluster;
}

/** Renders cluster rows as the contract's `ClusterResponse`, loading the members of all of them in one query. */
export async function presentClusters(db: Database, rows: ClusterRow[]): Promise<ClusterResponse[]> {
  if (rows.length === 0) return [];
  const byCluster = await membersByCluster(
    db,
    rows.map((r) => r.id),
  );
  return rows.map((row) => {
    const members = byCluster.get(row.id) ?? [];
    return {
      id: row.id,
      inserted_at: isoSeconds(row.insertedAt),
      ipv4_range: row.ipv4Range,
      name: row.name,
      network_name: row.networkName,
      node_count: members.length,
      node_limit: row.nodeLimit,
      metrics_detail_interval_seconds: row.metricsDetailIntervalSeconds,
      nodes: members.map((n) => ({
        id: n.id,
        id_type: n.idType,
        status: n.status,
        vpn_hostname: `${n.nodeName}.${row.vpnDomain}`,
      })),
      updated_at: isoSeconds(row.updatedAt),
      vpn_domain: row.vpnDomain,
    };
  });
}

/** Renders one cluster row as the contract's `ClusterResponse`. */
export async function presentCluster(db: Database, row: ClusterRow): Promise<ClusterResponse> {
  const [one] = await presentClusters(db, [row]);
  if (!one) throw new Error(`presentClusters returned nothing for cluster ${row.id}`);
  return one;
}
