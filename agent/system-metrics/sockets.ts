import type { SocketsSection } from "../../src/protocol/system-metrics";
import { readText } from "../inventory/budget";

// "TCP: inuse 5 orphan 0 tw 2 alloc 7 mem 1" → the value after `field` on the `proto:` line.
function field(text: string, proto: string, name: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${proto}:`));
  if (!line) return 0;
  const f = line.split(/\s+/);
  const i = f.indexOf(name);
  return i >= 0 ? Number(f[i + 1]) || 0 : 0;
}

/**
 * Socket counts from /proc/net/sockstat and sockstat6: O(1) to read, where counting the lines of
 * /proc/net/tcp grows with the connections.
 */
export function parseSockstat(v4: string, v6: string | null): Extract<SocketsSection, { available: true }> {
  return {
    available: true,
    tcp_in_use: field(v4, "TCP", "inuse"),
    tcp_time_wait: field(v4, "TCP", "tw"),
    tcp_orphaned: field(v4, "TCP", "orphan"),
    udp_in_use: field(v4, "UDP", "inuse"),
    tcp6_in_use: v6 ? field(v6, "TCP6", "inuse") : 0,
    udp6_in_use: v6 ? field(v6, "UDP6", "inuse") : 0,
  };
}

/** The sockets section. */
export async function collectSockets(root = ""): Promise<SocketsSection> {
  const v4 = await readText(`${root}/proc/net/sockstat`);
  if (v4 === null) return { available: false, reason: "/proc/net/sockstat is not readable" };
  return parseSockstat(v4, await readText(`${root}/proc/net/sockstat6`));
}
