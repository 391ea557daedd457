import { eq, sql } from "drizzle-orm";
import { clusterNetworkNames } from "../../src/clusters/present";
import type { Database } from "../../src/db/client";
import { isUniqueViolation } from "../../src/db/errors";
import { clusters } from "../../src/db/schema";
import {
  allocateBlock,
  type Ipv4Block,
  MAX_CLUSTER_PREFIX,
  MIN_CLUSTER_PREFIX,
  overlaps,
  parseCidr,
} from "../../src/net/cidr";
import type { Config } from "../env";
import { ApiError } from "../errors";

export type ClusterRow = typeof clusters.$inferSelect;

/** Loads a cluster by name or throws 404. */
export async function getClusterByName(db: Database, name: string): Promise<ClusterRow> {
  const [row] = await db.select().from(clusters).where(eq(clusters.name, name)).limit(1);
  if (!row) throw new ApiError("not_found", `Cluster "${name}" not found`);
  return row;
}

function poolBlock(config: Config): Ipv4Block {
  const parsed = parseCidr(config.clusterIpv4Pool);
  if ("error" in parsed) throw new Error(`CLUSTER_IPV4_POOL ${parsed.error}`);
  return parsed.block;
}

async function takenRanges(db: Database) {
  return db.select({ start: clusters.ipv4Start, end: clusters.ipv4End, name: clusters.name }).from(clusters);
}

/**
 * Creates a cluster. The insert is conditional on no overlapping range existing,
 * so two concurrent creates can never both claim intersecting blocks.
 */
export async function createCluster(
  db: Database,
  config: Config,
  input: { name: string; ipv4_range?: string | null; node_limit?: number | null },
): Promise<ClusterRow> {
  const [existing] = await db
    .select({ id: clusters.id })
    .from(clusters)
    .where(eq(clusters.name, input.name))
    .limit(1);
  if (existing)
    throw new ApiError("conflict", `Cluster "${input.name}" already exists`, {
      name: ["has already been taken"],
    });

  let requested: Ipv4Block | null = null;
  if (input.ipv4_range) {
    const parsed = parseCidr(input.ipv4_range, MIN_CLUSTER_PREFIX, MAX_CLUSTER_PREFIX);
    if ("error" in parsed)
      throw new ApiError("validation_failed", "Validation failed", { ipv4_range: [parsed.error] });
    requested = parsed.block;
  }

  // A racing create may take the block we picked; re-plan a few times before giving up.
  for (let attempt = 0; attempt < 5; attempt++) {
    const taken = await takenRanges(db);
    let block = requested;
    if (block) {
      const clash = taken.find((t) => overlaps(t, block!));
      if (clash) {
        throw new ApiError("validation_failed", "Validation failed", {
          ipv4_range: [`overlaps the range of cluster "${clash.name}"`],
        });
      }
    } else {
      block = allocateBlock(poolBlock(config), config.clusterIpv4Prefix, taken);
      if (!block) {
        throw new ApiError("validation_failed", "Validation failed", {
          ipv4_range: [
            `the address pool ${config.clusterIpv4Pool} has no free /${config.clusterIpv4Prefix} left; pass ipv4_range`,
          ],
        });
      }
    }
    const now = Date.now();
    const id = crypto.randomUUID();
    const names = clusterNetworkNames(input.name, config.vpnDomainSuffix);
    try {
      const result = await db.run(sql`
        INSERT INTO clusters (id, name, ipv4_range, ipv4_start, ipv4_end, node_limit, network_name, vpn_domain, inserted_at, updated_at)
        SELECT ${id}, ${input.name}, ${block.cidr}, ${block.start}, ${block.end}, ${input.node_limit ?? null},
               ${names.networkName}, ${names.vpnDomain}, ${now}, ${now}
        WHERE NOT EXISTS (SELECT 1 FROM clusters WHERE ipv4_start <= ${block.end} AND ipv4_end >= ${block.start})`);
      if (result.rowsAffected === 1) {
        const [row] = await db.select().from(clusters).where(eq(clusters.id, id));
        return row;
      }
    } catch (err) {
      if (isUniqueViolation(err)) {
        throw new ApiError("conflict", `Cluster "${input.name}" already exists`, {
          name: ["has already been taken"],
        });
      }
      throw err;
    }
  }
  throw new ApiError("conflict", "Could not reserve an address range under concurrent creates; retry");
}
