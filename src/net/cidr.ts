/** An IPv4 block as integers: `start` is the network address, `end` the broadcast address. */
export interface Ipv4Block {
  start: number;
  end: number;
  prefix: number;
  cidr: string;
}

export const MIN_CLUSTER_PREFIX = 8;
export const MAX_CLUSTER_PREFIX = 30;

/** Dotted quad → unsigned 32-bit integer, or null. */
export function ipv4ToInt(text: string): number | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  let n = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || (part.length > 1 && part.startsWith("0"))) return null;
    const octet = Number(part);
    if (octet > 255) return null;
    n = n * 256 + octet;
  }
  return n;
}

/** Unsigned 32-bit integer → dotted quad. */
export function intToIpv4(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join(".");
}

function blockOf(start: number, prefix: number): Ipv4Block {
  const size = 2 ** (32 - prefix);
  return { start, end: start + size - 1, prefix, cidr: `${intToIpv4(start)}/${prefix}` };
}

/**
 * Parses `a.b.c.d/n`. The address must be the block's network address, so a
 * typo such as `100.64.1.7/24` is reported instead of silently widened.
 */
export function parseCidr(
  text: string,
  minPrefix = 0,
  maxPrefix = 32,
): { block: Ipv4Block } | { error: string } {
  const match = /^(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})\/(\d{1,2})$/.exec(text);
  if (!match) return { error: "must be an IPv4 CIDR such as 100.64.1.0/24" };
  const address = ipv4ToInt(match[1]);
  const prefix = Number(match[2]);
  if (address === null) return { error: "has an invalid IPv4 address" };
  if (prefix < minPrefix || prefix > maxPrefix)
    return { error: `prefix length must be between /${minPrefix} and /${maxPrefix}` };
  const size = 2 ** (32 - prefix);
  const network = Math.floor(address / size) * size;
  if (network !== address)
    return { error: `host bits are set; did you mean ${intToIpv4(network)}/${prefix}?` };
  return { block: blockOf(network, prefix) };
}

/** Whether two blocks share any address. */
export function overlaps(a: { start: number; end: number }, b: { start: number; end: number }): boolean {
  return a.start <= b.end && b.start <= a.end;
}

/**
 * First block of `prefix` inside `pool` that overlaps none of `taken`.
 * @example allocateBlock(pool, 24, [{start, end}]) // → the lowest free /24, or null when full
 */
export function allocateBlock(
  pool: Ipv4Block,
  prefix: number,
  taken: { start: number; end: number }[],
): Ipv4Block | null {
  if (prefix < pool.prefix) return null;
  const size = 2 ** (32 - prefix);
  const sorted = [...taken].filter((t) => overlaps(t, pool)).sort((a, b) => a.start - b.start);
  let candidate = pool.start;
  for (const t of sorted) {
    if (candidate + size - 1 < t.start) break;
    if (t.end >= candidate) candidate = Math.ceil((t.end + 1) / size) * size;
  }
  return candidate + size - 1 <= pool.end ? blockOf(candidate, prefix) : null;
}
