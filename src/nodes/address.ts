import { intToIpv4, ipv4ToInt } from "../net/cidr";

/**
 * The lowest free host address of a cluster range. The network address, the
 * first host (kept for the cluster's gateway) and the broadcast address are never handed out.
 * @example nextFreeAddress({ start, end }, ["100.64.0.2"]) // "100.64.0.3"
 */
export function nextFreeAddress(
  range: { start: number; end: number },
  used: (string | null)[],
): string | null {
  const taken = new Set(used.filter((a): a is string => a !== null).map((a) => ipv4ToInt(a)));
  for (let n = range.start + 2; n < range.end; n++) {
    if (!taken.has(n)) return intToIpv4(n);
  }
  return null;
}
