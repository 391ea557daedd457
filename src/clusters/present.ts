import { inArray } from "drizzle-orm";
import type { Database } from "../db/client";
import { type clusters, nodes } from "../db/schema";
import { isoSeconds } from "../time";

type ClusterRow = typeof clusters.$inferSelect;

/** The seed's `NodeSummary`. */
export interface NodeSummary {
  id: string;
  id_type: string;
  status: string;
  vpn_hostname: string;
}

/** The seed's `ClusterResponse`. */
export interface ClusterResponse {
  id: string;
  inserted_at: string;
  ipv4_range: string;
  name: string;
  network_name: string;
  node_count: number;
  node_limit: number | null;
  nodes: NodeSummary[];
  updated_at: string;
  vpn_domain: string;
}

/** `network_name` and `vpn_domain` of a cluster, derived from its name. */
export function clusterNetworkNames(name: string, vpnDomainSuffix: string) {
  return { networkName: `cluster-${name}`, vpnDomain: `cluster-${name}.${vpnDomainSuffix}` };
}

/** Renders cluster rows with their node summaries, loading all nodes of the page in one query. */
export async function presentClusters(db: Database, rows: ClusterRow[]): Promise<ClusterResponse[]> {
  if (rows.length === 0) return [];
  const members = await db
    .select({
      id: nodes.id,
      idType: nodes.idType,
      status: nodes.status,
      nodeName: nodes.nodeName,
      clusterId: nodes.clusterId,
    })
    .from(nodes)
    .where(
      inArray(
        nodes.clusterId,
        rows.map((r) => r.id),
      ),
    )
    .orderBy(nodes.insertedAt, nodes.id);
  const byCluster = new Map<string, typeof members>();
  for (const m of members) {
    const list = byCluster.get(m.clusterId) ?? [];
    list.push(m);
    byCluster.set(m.clusterId, list);
  }
  return rows.map((row) => {
    const list = byCluster.get(row.id) ?? [];
    return {
      id: row.id,
      inserted_at: isoSeconds(row.insertedAt),
      ipv4_range: row.ipv4Range,
      name: row.name,
      network_name: row.networkName,
      node_count: list.length,
      node_limit: row.nodeLimit,
      nodes: list.map((n) => ({
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
