import { and, count, eq, ne, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { Database } from "../db/client";
import { isUniqueViolation } from "../db/errors";
import { clusters, nodes } from "../db/schema";
import { ApiError } from "../errors";
import type { ListQuery } from "../list-query/engine";
import { listPage, type Page } from "../list-query/page";
import {
  allocateBlock,
  type Ipv4Block,
  MAX_CLUSTER_PREFIX,
  MIN_CLUSTER_PREFIX,
  overlaps,
  parseCidr,
} from "../net/cidr";
import type { ClusterCreateInput } from "./schema";

export type ClusterRow = typeof clusters.$inferSelect;

/** The settings a new cluster's addresses and names come from (a slice of the Worker's config). */
export interface ClusterAddressing {
  clusterIpv4Pool: string;
  clusterIpv4Prefix: number;
  vpnDomainSuffix: string;
}

/** `network_name` and `vpn_domain` of a cluster, derived from its name. */
export function clusterNetworkNames(name: string, vpnDomainSuffix: string) {
  return { networkName: `cluster-${name}`, vpnDomain: `cluster-${name}.${vpnDomainSuffix}` };
}

/** Loads a cluster by name or throws 404. */
export async function getClusterByName(db: Database, name: string): Promise<ClusterRow> {
  const [row] = await db.select().from(clusters).where(eq(clusters.name, name)).limit(1);
  if (!row) throw new ApiError("not_found", `Cluster "${name}" not found`);
  return row;
}

/** One page of clusters for the list endpoint. */
export function listClusters(db: Database, q: ListQuery): Promise<Page<ClusterRow>> {
  return listPage(db, q, db.select().from(clusters), db.select({ total: count() }).from(clusters));
}

function poolBlock(addressing: ClusterAddressing): Ipv4Block {
  const parsed = parseCidr(addressing.clusterIpv4Pool);
  if ("error" in parsed) throw new Error(`CLUSTER_IPV4_POOL ${parsed.error}`);
  return parsed.block;
}

function alreadyExists(name: string): ApiError {
  return new ApiError("conflict", `Cluster "${name}" already exists`, { name: ["has already been taken"] });
}

function requestedBlock(ipv4Range: string | null | undefined): Ipv4Block | null {
  if (!ipv4Range) return null;
  const parsed = parseCidr(ipv4Range, MIN_CLUSTER_PREFIX, MAX_CLUSTER_PREFIX);
  if ("error" in parsed)
    throw new ApiError("validation_failed", "Validation failed", { ipv4_range: [parsed.error] });
  return parsed.block;
}

// The block a create should try now: the requested one if it is still free, else a free one of the pool.
async function planBlock(
  db: Database,
  addressing: ClusterAddressing,
  requested: Ipv4Block | null,
): Promise<Ipv4Block> {
  const taken = await db
    .select({ start: clusters.ipv4Start, end: clusters.ipv4End, name: clusters.name })
    .from(clusters);
  if (requested) {
    const clash = taken.find((t) => overlaps(t, requested));
    if (clash) {
      throw new ApiError("validation_failed", "Validation failed", {
        ipv4_range: [`overlaps the range of cluster "${clash.name}"`],
      });
    }
    return requested;
  }
  const block = allocateBlock(poolBlock(addressing), addressing.clusterIpv4Prefix, taken);
  if (!block) {
    throw new ApiError("validation_failed", "Validation failed", {
      ipv4_range: [
        `the address pool ${addressing.clusterIpv4Pool} has no free /${addressing.clusterIpv4Prefix} left; pass ipv4_range`,
      ],
    });
  }
  return block;
}

/**
 * Creates a cluster. The insert is conditional on no overlapping range existing,
 * so two concurrent creates can never both claim intersecting blocks.
 */
export async function createCluster(
  db: Database,
  addressing: ClusterAddressing,
  input: ClusterCreateInput,
): Promise<ClusterRow> {
  const [existing] = await db
    .select({ id: clusters.id })
    .from(clusters)
    .where(eq(clusters.name, input.name))
    .limit(1);
  if (existing) throw alreadyExists(input.name);
  const requested = requestedBlock(input.ipv4_range);

  // A racing create may take the block we picked; re-plan a few times before giving up.
  for (let attempt = 0; attempt < 5; attempt++) {
    const block = await planBlock(db, addressing, requested);
    const now = Date.now();
    const id = crypto.randomUUID();
    const names = clusterNetworkNames(input.name, addressing.vpnDomainSuffix);
    try {
      const [row] = await db
        .insert(clusters)
        .select(
          db
            .select({
              id: sql`${id}`.as("id"),
              name: sql`${input.name}`.as("name"),
              ipv4Range: sql`${block.cidr}`.as("ipv4_range"),
              ipv4Start: sql`${block.start}`.as("ipv4_start"),
              ipv4End: sql`${block.end}`.as("ipv4_end"),
              nodeLimit: sql`${input.node_limit ?? null}`.as("node_limit"),
              // drizzle's INSERT … SELECT names every column in table order; the triggers keep both.
              nodeCount: sql`0`.as("node_count"),
              nextHost: sql`0`.as("next_host"),
              networkName: sql`${names.networkName}`.as("network_name"),
              vpnDomain: sql`${names.vpnDomain}`.as("vpn_domain"),
              metricsDetailIntervalSeconds: sql`${input.metrics_detail_interval_seconds ?? null}`.as(
                "metrics_detail_interval_seconds",
              ),
              insertedAt: sql`${now}`.as("inserted_at"),
              updatedAt: sql`${now}`.as("updated_at"),
            })
            .from(sql`(SELECT 1)`)
            .where(
              sql`NOT EXISTS (SELECT 1 FROM ${clusters} WHERE ${clusters.ipv4Start} <= ${block.end} AND ${clusters.ipv4End} >= ${block.start})`,
            ),
        )
        .returning();
      if (row) return row;
    } catch (err) {
      if (isUniqueViolation(err)) throw alreadyExists(input.name);
      throw err;
    }
  }
  throw new ApiError("conflict", "Could not reserve an address range under concurrent creates; retry");
}

/**
 * Sets a cluster's node limit (`null` removes it). A limit below the cluster's current node count
 * is refused with 422, since it would describe a cluster that is already over its limit.
 */
export async function setClusterNodeLimit(
  db: Database,
  row: ClusterRow,
  nodeLimit: number | null,
): Promise<ClusterRow> {
  if (nodeLimit !== null) {
    const [members] = await db.select({ n: count() }).from(nodes).where(eq(nodes.clusterId, row.id));
    const n = members?.n ?? 0;
    if (n > nodeLimit) {
      throw new ApiError("validation_failed", "Validation failed", {
        node_limit: [`must be at least the current node count (${n})`],
      });
    }
  }
  const [updated] = await db
    .update(clusters)
    .set({ nodeLimit, updatedAt: Date.now() })
    .where(eq(clusters.id, row.id))
    .returning();
  if (!updated) throw new ApiError("not_found", `Cluster "${row.name}" not found`);
  return updated;
}

/** Sets the cluster's own metrics detail interval (null: the server's default). */
export async function setClusterMetricsDetailInterval(
  db: Database,
  row: ClusterRow,
  seconds: number | null,
): Promise<ClusterRow> {
  const [updated] = await db
    .update(clusters)
    .set({ metricsDetailIntervalSeconds: seconds, updatedAt: Date.now() })
    .where(eq(clusters.id, row.id))
    .returning();
  if (!updated) throw new ApiError("not_found", `Cluster "${row.name}" not found`);
  return updated;
}

/** The ids of the cluster's nodes an agent may be connected for (not `unreachable`). */
export async function reachableClusterNodeIds(db: Database, clusterId: string): Promise<string[]> {
  const rows = await db
    .select({ id: nodes.id })
    .from(nodes)
    .where(and(eq(nodes.clusterId, clusterId), ne(nodes.status, "unreachable")));
  return rows.map((r) => r.id);
}

/**
 * Deletes a cluster that has no nodes; a cluster with nodes is a 409. `audit` (the request's audit
 * insert) commits with the delete, in the same batch.
 */
export async function deleteEmptyCluster(
  db: Database,
  row: ClusterRow,
  audit: BatchItem<"sqlite">[] = [],
): Promise<void> {
  // Conditional delete: a node enrolling concurrently can't be orphaned.
  const [result] = await db.batch([
    db.run(
      sql`DELETE FROM ${clusters} WHERE ${clusters.id} = ${row.id} AND NOT EXISTS (SELECT 1 FROM ${nodes} WHERE ${nodes.clusterId} = ${row.id})`,
    ),
    ...audit,
  ]);
  if (result.rowsAffected === 0) {
    throw new ApiError("conflict", `Cluster "${row.name}" still has nodes; move or delete them first`);
  }
}
