import { eq } from "drizzle-orm";
import type { Database } from "../../src/db/client";
import { isUniqueViolation } from "../../src/db/errors";
import { aliases, clusters, nodes } from "../../src/db/schema";
import { recordEvent } from "../../src/events/outbox";
import { allocateAddress } from "../../src/nodes/address";
import { ApiError } from "../errors";

/**
 * Moves a node to another cluster in one write transaction: capacity and a
 * fresh address in the target range, the node's aliases, and
 * `edge.node.cluster_changed`, and the request's audit event, all or nothing.
 */
export async function changeNodeCluster(
  db: Database,
  nodeId: string,
  targetName: string,
  audit?: (tx: Pick<Database, "run">) => PromiseLike<unknown>,
): Promise<{ from: string; to: string }> {
  try {
    return await db.transaction(async (tx) => {
      const [node] = await tx.select().from(nodes).where(eq(nodes.id, nodeId));
      if (!node) throw new ApiError("not_found", "Node not found");
      const [target] = await tx.select().from(clusters).where(eq(clusters.name, targetName));
      if (!target) throw new ApiError("not_found", `Cluster "${targetName}" not found`);
      const [source] = await tx.select().from(clusters).where(eq(clusters.id, node.clusterId));
      if (target.id === node.clusterId) {
        throw new ApiError("validation_failed", "Validation failed", {
          cluster_name: ["node is already in this cluster"],
        });
      }
      // The trigger-kept count and allocator: no read of the target's members under the write lock.
      if (target.nodeLimit !== null && target.nodeCount >= target.nodeLimit) {
        throw new ApiError("conflict", `Cluster "${target.name}" is full (node_limit ${target.nodeLimit})`);
      }
      const address = await allocateAddress(tx, target);
      if (!address) throw new ApiError("conflict", `Cluster "${target.name}" has no free address left`);
      const now = Date.now();
      await tx
        .update(nodes)
        .set({ clusterId: target.id, ipv4Address: address, updatedAt: now })
        .where(eq(nodes.id, nodeId));
      // Right after the node's update (its `changes()`), inside the same transaction.
      if (audit) await audit(tx);
      await tx
        .update(aliases)
        .set({ clusterId: target.id, updatedAt: now })
        .where(eq(aliases.nodeId, nodeId));
      await recordEvent(
        tx,
        "edge.node.cluster_changed",
        { node_id: nodeId, from: source.name, to: target.name },
        now,
      );
      return { from: source.name, to: target.name };
    });
  } catch (err) {
    if (isUniqueViolation(err)) {
      throw new ApiError("conflict", `An alias of this node already exists in cluster "${targetName}"`);
    }
    throw err;
  }
}
