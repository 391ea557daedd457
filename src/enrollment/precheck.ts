import { eq } from "drizzle-orm";
import { constantTimeEqual, sha256Hex } from "../crypto/secrets";
import type { Database } from "../db/client";
import { enrollmentKeys, nodes, nodeTombstones } from "../db/schema";
import { ApiError } from "../errors";

/** The refusals of a key, shared by the read-only check and the spending transaction. */
export const KEY_REFUSALS = {
  unknown: () => new ApiError("unauthorized", "Enrollment key not recognised"),
  expired: () => new ApiError("forbidden", "Enrollment key has expired"),
  spent: () => new ApiError("forbidden", "Enrollment key has no uses left"),
};

/** The key fields enrolment decides on. */
export interface UsableKey {
  id: string;
  clusterId: string;
  requiresApproval: boolean;
}

/**
 * Reads the key by the hash of its secret and refuses an unknown, expired or spent one (review H2):
 * a plain read, so a flood of made-up keys never takes libSQL's write lock.
 * @throws ApiError 401 unknown, 403 expired or spent
 * @example const key = await readUsableKey(db, body.key)
 */
export async function readUsableKey(db: Database, secret: string, now = Date.now()): Promise<UsableKey> {
  const [key] = await db
    .select({
      id: enrollmentKeys.id,
      clusterId: enrollmentKeys.clusterId,
      usesRemaining: enrollmentKeys.usesRemaining,
      expiredAt: enrollmentKeys.expiredAt,
      requiresApproval: enrollmentKeys.requiresApproval,
    })
    .from(enrollmentKeys)
    .where(eq(enrollmentKeys.keyHash, await sha256Hex(secret)));
  if (!key) throw KEY_REFUSALS.unknown();
  if (key.expiredAt !== null && key.expiredAt <= now) throw KEY_REFUSALS.expired();
  if (key.usesRemaining !== null && key.usesRemaining <= 0) throw KEY_REFUSALS.spent();
  return { id: key.id, clusterId: key.clusterId, requiresApproval: key.requiresApproval };
}

/** An existing node as re-registration sees it. */
export type ExistingNode = Pick<
  typeof nodes.$inferSelect,
  "id" | "idType" | "clusterId" | "apiTokenHash" | "tokenRevokedAt" | "ipv4Address"
>;

/** Reads the node an enrolment names, if any (outside or inside a transaction). */
export async function readExistingNode(
  db: Pick<Database, "select">,
  nodeId: string,
): Promise<ExistingNode | undefined> {
  const [row] = await db
    .select({
      id: nodes.id,
      idType: nodes.idType,
      clusterId: nodes.clusterId,
      apiTokenHash: nodes.apiTokenHash,
      tokenRevokedAt: nodes.tokenRevokedAt,
      ipv4Address: nodes.ipv4Address,
    })
    .from(nodes)
    .where(eq(nodes.id, nodeId));
  return row;
}

/** Refuses (403) a node id an administrator blocked when deleting it. */
export async function refuseTombstoned(db: Pick<Database, "select">, nodeId: string): Promise<void> {
  const [row] = await db
    .select({ nodeId: nodeTombstones.nodeId })
    .from(nodeTombstones)
    .where(eq(nodeTombstones.nodeId, nodeId));
  if (row) {
    throw new ApiError(
      "forbidden",
      "This node id was blocked from enrolling again; an administrator can lift it with DELETE /api/v1/node_tombstones/{node_id}",
    );
  }
}

/**
 * Decides a re-registration of an existing node id (review H1). It is allowed only when the
 * request proves it is that node: it carries the node's current token, or the token was revoked
 * by an administrator (who then expects the agent to enrol again). A random id is taken again only
 * with its token (`outpost-agent enroll --reenroll`): without it, a clash is a collision or a guess.
 * The id type never changes, and enrolment never moves a node to another cluster. Anything else is
 * a 409 and changes nothing. Resolves with the ground it was allowed on: `proven` or `revoked`.
 * @throws ApiError 409
 */
export async function checkReregistration(
  existing: ExistingNode,
  input: { id_type: "persistent" | "random"; api_token?: string },
  keyClusterId: string,
): Promise<"proven" | "revoked"> {
  const proven =
    input.api_token !== undefined &&
    (await constantTimeEqual(await sha256Hex(input.api_token), existing.apiTokenHash));
  if (existing.idType !== input.id_type || (existing.idType === "random" && !proven)) {
    throw new ApiError("conflict", "A node with this id already exists; random ids must be unique");
  }
  const revoked = existing.tokenRevokedAt !== null;
  if (!revoked && !proven) {
    throw new ApiError(
      "conflict",
      "A node with this id is already enrolled; re-registering it needs its current api_token",
    );
  }
  if (existing.clusterId !== keyClusterId) {
    throw new ApiError(
      "conflict",
      "This node belongs to another cluster; enrolment never moves a node (use PATCH /api/v1/nodes/{node_id}/change_cluster)",
    );
  }
  return proven ? "proven" : "revoked";
}
