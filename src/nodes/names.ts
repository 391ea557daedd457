/** `node_name`, derived from the node id as the contract shows (`node-<id>`). */
export function nodeNameFor(nodeId: string): string {
  return `node-${nodeId}`;
}

/** The node's VPN hostname: `<node_name>.<cluster vpn_domain>`. */
export function vpnHostname(nodeName: string, vpnDomain: string): string {
  return `${nodeName}.${vpnDomain}`;
}

/** The node's mDNS hostname on its LAN. */
export function mdnsHostname(nodeName: string): string {
  return `${nodeName}.local`;
}
