import { sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { intToIpv4, ipv4ToInt } from "../net/cidr";

/**
 * The lowest free host address of a cluster range, found by walking every member's address. The
 * network address, the first host (kept for the cluster's gateway) and the broadcast address are never
 * handed out. Its cost grows with the cluster: {@link allocateAddress} uses it only once the range's
 * counter is spent and nothing was given back.
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

type Reader = Pick<Database, "all">;

/**
 * Takes a host address for a new member of `clusterId`, in the caller's write transaction, without
 * reading the cluster's members: an address a node gave back (`cluster_free_addresses`, one index
 * lookup), else the next never-used one from the cluster's `next_host` counter (one row). Both lists
 * are kept in step with `nodes` by triggers (migrations/0002), so a node inserted by any path never
 * gets its address handed out twice. Only when the counter reached the end of the range and nothing
 * was given back does it fall back to the scan, which then finds addresses a direct insert skipped.
 * Returns null when the range is full.
 */
export async function allocateAddress(
  tx: Reader,
  cluster: { id: string; ipv4Start: number; ipv4End: number },
): Promise<string | null> {
  const [freed] = await tx.all<{ address: string }>(sql`
    DELETE FROM cluster_free_addresses
    WHERE rowid = (SELECT rowid FROM cluster_free_addresses WHERE cluster_id = ${cluster.id} LIMIT 1)
    RETURNING address`);
  if (freed) return freed.address;
  const [fresh] = await tx.all<{ address: number }>(sql`
    UPDATE clusters SET next_host = next_host + 1
    WHERE id = ${cluster.id} AND ipv4_start + 2 + next_host < ipv4_end
    RETURNING ipv4_start + 1 + next_host AS address`);
  if (fresh) return intToIpv4(Number(fresh.address));
  const members = await tx.all<{ ip: string | null }>(
    sql`SELECT ipv4_address AS ip FROM nodes WHERE cluster_id = ${cluster.id}`,
  );
  return nextFreeAddress(
    { start: cluster.ipv4Start, end: cluster.ipv4End },
    members.map((m) => m.ip),
  );
}
