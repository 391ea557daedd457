import { eq } from "drizzle-orm";
import type { Database } from "../db/client";
import { clusters, nodes } from "../db/schema";
import { ApiError } from "../errors";
import type { ListQuery } from "../list-query/engine";

/** Nodes one fleet-wide metrics stream follows at most (each is a stream on its node's session). */
export const FLEET_STREAM_MAX_NODES = 20;

/**
 * The nodes a fleet metrics stream follows: those the node list's filters select, in its order.
 * More than `FLEET_STREAM_MAX_NODES` is a 422 naming the filters: every followed node makes its
 * agent sample fast, so a stream never quietly follows a fleet.
 */
export async function fleetStreamNodes(
  db: Database,
  q: ListQuery,
): Promise<{ id: string; clusterName: string; status: string }[]> {
  const rows = await db
    .select({ id: nodes.id, clusterName: clusters.name, status: nodes.status })
    .from(nodes)
    .innerJoin(clusters, eq(clusters.id, nodes.clusterId))
    .where(q.where)
    .orderBy(...q.orderBy)
    .limit(FLEET_STREAM_MAX_NODES + 1);
  if (rows.length > FLEET_STREAM_MAX_NODES)
    throw new ApiError("validation_failed", "Validation failed", {
      filters: [
        `select more than ${FLEET_STREAM_MAX_NODES} nodes; a fleet stream follows at most ${FLEET_STREAM_MAX_NODES} (narrow by id, cluster_name, status, …)`,
      ],
    });
  return rows;
}
