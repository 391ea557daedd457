// Outpost has no Erlang cluster, no Netmaker and no WireGuard mesh: one deployment (one Worker and its
// database) is one admin, alone in its admin cluster, owning every edge cluster. The seed's shapes are
// kept; each route's description (workers/routes/admins.ts) says how its fields map. What is derived
// from the request (the identity) lives here; the database side is in src/admins/.
import { UNLIMITED } from "../../src/admins/limits";
import { publicOrigin } from "../gateway/releases";
import type { AppContext } from "../middleware/request-context";

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
