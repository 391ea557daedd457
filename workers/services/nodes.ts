import { eq } from "drizzle-orm";
import { decryptSecret } from "../../src/crypto/secrets";
import type { Database } from "../../src/db/client";
import { clusters, nodes } from "../../src/db/schema";
import { mdnsHostname, vpnHostname } from "../../src/nodes/names";
import { isoOrNull, isoSeconds } from "../../src/time";
import type { Config } from "../env";
import { ApiError } from "../errors";

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

/** Loads one node with its cluster, or throws 404. */
export async function getNode(db: Database, id: string): Promise<NodeRow> {
  const [row] = await selectNodes(db).where(eq(nodes.id, id)).limit(1);
  if (!row) throw new ApiError("not_found", "Node not found");
  return toNodeRow(row);
}

/** The seed's `NodeResponse` (plus `ipv4_address`, the node's address in its cluster range). */
export async function presentNode(row: NodeRow, config: Config) {
  return {
    api_token: await decryptSecret(row.apiTokenCiphertext, config.encryptionKey),
    cluster_name: row.clusterName,
    ...config.nodePorts,
    id: row.id,
    id_type: row.idType,
    inserted_at: isoSeconds(row.insertedAt),
    ipv4_address: row.ipv4Address,
    last_seen_at: isoOrNull(row.lastSeenAt),
    mdns_hostname: mdnsHostname(row.nodeName),
    netmaker_host_id: row.netmakerHostId,
    node_name: row.nodeName,
    proxy_password: await decryptSecret(row.proxyPasswordCiphertext, config.encryptionKey),
    self_update_enabled: row.selfUpdateEnabled,
    status: row.status,
    updated_at: isoSeconds(row.updatedAt),
    version: row.version,
    vpn_hostname: vpnHostname(row.nodeName, row.vpnDomain),
  };
}
