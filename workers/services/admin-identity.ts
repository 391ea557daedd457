// Outpost has no Erlang cluster, no Netmaker and no WireGuard mesh: one deployment (one Worker and its
// database) is one admin, alone in its admin cluster, owning every edge cluster. The seed's shapes are
// kept; each route's description (workers/routes/admins.ts) says how its fields map.
import { sql } from "drizzle-orm";
import type { Database } from "../../src/db/client";
import { clusters, nodes } from "../../src/db/schema";
import type { AppContext } from "../middleware/request-context";
import { publicOrigin } from "../public-origin";

/** "Unlimited" where the seed wants an integer capacity: nothing in Outpost caps the fleet per admin. */
export const UNLIMITED = 2_147_483_647;

const ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz";

/** This deployment as the seed's admin: ids and host derived from its public origin. */
export interface AdminIdentity {
  id: string;
  name: string;
  host: string;
  netmakerHostId: string;
}

/** Identity derived from SHA-256 of the public origin (PUBLIC_API_URL, else the request's origin). */
export async function identity(c: AppContext): Promise<AdminIdentity> {
  const origin = publicOrigin(c);
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(origin)));
  const id = [...hash.slice(0, 12)].map((b) => ALPHABET[b % ALPHABET.length]).join("");
  const hex = [...hash.slice(12, 28)].map((b) => b.toString(16).padStart(2, "0")).join("");
  // RFC 9562 version 8 (custom) layout: a UUID-shaped stable id, not a Netmaker host.
  const uuid = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${((Number.parseInt(hex[16], 16) & 0x3) | 0x8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
  return { id, name: `admin-${id}`, host: new URL(origin).hostname, netmakerHostId: uuid };
}

/** The admin's entry in its admin cluster's topology (no peers, unlimited capacity). */
export function topologyEntry(me: AdminIdentity) {
  return {
    admin_peer_count: 0,
    edge_node_capacity: UNLIMITED,
    erlang_node_name: `admin@${me.host}`,
    max_wireguard_peers: UNLIMITED,
    name: me.name,
    netmaker_host_id: me.netmakerHostId,
    vpn_hostname: me.host,
  };
}

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
