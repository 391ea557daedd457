import { decryptSecret } from "../crypto/secrets";
import { isoOrNull, isoSeconds } from "../time";
import { mdnsHostname, vpnHostname } from "./names";
import type { NodePortFields, NodeResponse } from "./schema";
import type { NodeRow } from "./store";

/** What a node's response needs beyond its row: the key its secrets are sealed with, and the fleet's ports. */
export interface NodePresentation {
  encryptionKey: string;
  nodePorts: NodePortFields;
}

/** Renders a node as the contract's `NodeResponse`, decrypting its token and proxy password. */
export async function presentNode(row: NodeRow, settings: NodePresentation): Promise<NodeResponse> {
  return {
    api_token: await decryptSecret(row.apiTokenCiphertext, settings.encryptionKey),
    cluster_name: row.clusterName,
    ...settings.nodePorts,
    id: row.id,
    id_type: row.idType,
    inserted_at: isoSeconds(row.insertedAt),
    ipv4_address: row.ipv4Address,
    last_seen_at: isoOrNull(row.lastSeenAt),
    mdns_hostname: mdnsHostname(row.nodeName),
    netmaker_host_id: row.netmakerHostId,
    node_name: row.nodeName,
    proxy_password: await decryptSecret(row.proxyPasswordCiphertext, settings.encryptionKey),
    self_update_enabled: row.selfUpdateEnabled,
    status: row.status,
    updated_at: isoSeconds(row.updatedAt),
    version: row.version,
    vpn_hostname: vpnHostname(row.nodeName, row.vpnDomain),
  };
}

/** Renders a page of nodes. */
export function presentNodes(rows: NodeRow[], settings: NodePresentation): Promise<NodeResponse[]> {
  return Promise.all(rows.map((row) => presentNode(row, settings)));
}
