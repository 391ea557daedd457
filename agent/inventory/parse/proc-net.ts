// Parsers of /proc/net: the routing table (for the default route) and socket tables (for listening ports).

/** Hex little-endian IPv4 as /proc/net/route writes it → dotted quad. */
export function hexToIpv4(hex: string): string {
  const n = Number.parseInt(hex, 16);
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff].join(".");
}

/** The default route (Destination 00000000, lowest metric) of /proc/net/route: interface and gateway. */
export function parseDefaultRoute(text: string): { iface: string; gateway: string } | null {
  let best: { iface: string; gateway: string; metric: number } | null = null;
  for (const line of text.split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8 || f[1] !== "00000000") continue;
    // Flags: RTF_UP (0x1) must be set.
    if ((Number.parseInt(f[3], 16) & 1) === 0) continue;
    const metric = Number(f[6]);
    if (!best || metric < best.metric) best = { iface: f[0], gateway: hexToIpv4(f[2]), metric };
  }
  return best ? { iface: best.iface, gateway: best.gateway } : null;
}

// /proc/net/tcp6 addresses are four little-endian 32-bit words.
function hexToIpv6(hex: string): string {
  const words: string[] = [];
  for (let i = 0; i < 32; i += 8) {
    const word = hex.slice(i, i + 8);
    const bytes = word.match(/../g) ?? [];
    words.push(bytes.reverse().join(""));
  }
  const groups = words.join("").match(/.{4}/g) ?? [];
  const full = groups.map((g) => g.replace(/^0+(?=.)/, "")).join(":");
  // Shorten the longest run of zero groups, as the canonical form does.
  const runs = [...full.matchAll(/(^|:)0(:0)+(:|$)/g)];
  if (runs.length === 0) return full;
  const longest = runs.reduce((a, b) => (b[0].length > a[0].length ? b : a));
  const index = longest.index ?? 0;
  return `${full.slice(0, index)}::${full.slice(index + longest[0].length)}`
    .replace(/^:::/, "::")
    .replace(/:::$/, "::");
}

/** One listening socket of /proc/net/{tcp,tcp6,udp,udp6}. */
export interface ListeningSocket {
  address: string;
  port: number;
  uid: number;
  inode: number;
}

/**
 * Sockets in a /proc/net socket table that listen: TCP in state 0A (LISTEN); UDP in state 07
 * (unconnected), the nearest thing UDP has.
 */
export function parseListeningSockets(
  text: string,
  protocol: "tcp" | "tcp6" | "udp" | "udp6",
): ListeningSocket[] {
  const want = protocol.startsWith("tcp") ? "0A" : "07";
  const out: ListeningSocket[] = [];
  for (const line of text.split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10 || f[3] !== want) continue;
    const [addrHex, portHex] = f[1].split(":");
    if (!addrHex || !portHex) continue;
    out.push({
      address: addrHex.length === 8 ? hexToIpv4(addrHex) : hexToIpv6(addrHex),
      port: Number.parseInt(portHex, 16),
      uid: Number(f[7]),
      inode: Number(f[9]),
    });
  }
  return out;
}
