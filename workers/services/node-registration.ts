import { and, eq, isNotNull } from "drizzle-orm";
import type { Config } from "../../src/config";
import { constantTimeEqual, randomSecret, sha256Hex } from "../../src/crypto/secrets";
import type { Database } from "../../src/db/client";
import { isUniqueViolation } from "../../src/db/errors";
import { clusters, nodeRegistrations } from "../../src/db/schema";
import { checkReregistration, readExistingNode, refuseTombstoned } from "../../src/enrollment/precheck";
import { recordEvent } from "../../src/events/outbox";
import {
  getRegistration,
  type NodeRegistrationRow,
  notPending,
  registrationEventData,
} from "../../src/node-registrations/store";
import type { EnrollAccepted } from "../../src/protocol/enroll";
import { ApiError } from "../errors";
import { type EnrollInput, newNodeSecrets, spendKey, writeEnrolledNode } from "./enrollment";

/**
 * Records an enrolment with a key that requires approval (C18): the key use is spent now (a
 * single-use key cannot queue unlimited registrations), the registration and its events commit in
 * one transaction. Call `precheckEnrolment` first. Returns the 202 answer with the poll secret.
 */
export async function requestRegistration(
  db: Database,
  input: EnrollInput,
  ip: string | null,
  /** NODE_REGISTRATION_POLL_SECONDS: the agent's pace between polls. */
  pollSeconds: number,
): Promise<EnrollAccepted> {
  const secret = randomSecret(32);
  const pollSecretHash = await sha256Hex(secret);
  const id = crypto.randomUUID();
  await db.transaction(async (tx) => {
    const now = Date.now();
    const key = await spendKey(tx, input.key, now);
    const [cluster] = await tx.select().from(clusters).where(eq(clusters.id, key.clusterId));
    await refuseTombstoned(tx, input.node_id);
    await tx.insert(nodeRegistrations).values({
      id,
      clusterId: cluster.id,
      enrollmentKeyId: key.id,
      proposedNodeId: input.node_id,
      idType: input.id_type,
      hostname: input.hostname,
      platform: input.platform,
      arch: input.arch ?? null,
      agentVersion: input.version,
      ip,
      status: "pending",
      pollSecretHash,
      insertedAt: now,
      updatedAt: now,
    });
    await recordEvent(
      tx,
      "edge.enrollment_key.verified",
      { enrollment_key_id: key.id, cluster_name: cluster.name, node_id: input.node_id },
      now,
    );
    await recordEvent(
      tx,
      "edge.node_registration.requested",
      {
        registration_id: id,
        node_id: input.node_id,
        cluster_name: cluster.name,
        hostname: input.hostname,
        enrollment_key_id: key.id,
      },
      now,
    );
  });
  return {
    registration_id: id,
    registration_secret: secret,
    status: "pending",
    retry_after_seconds: pollSeconds,
  };
}

/**
 * An agent's poll of its registration, proven by the registration secret. Pending: the 202 answer
 * again. Approved: the node id, once (the marker of a token held for the agent is cleared as it is
 * handed over, so a leaked registration secret cannot fetch the token later).
 * Rejected or expired: 403, which the agent takes as final.
 * @throws ApiError 401 (unknown id or wrong secret, alike) | 403 | 409 (token already collected)
 */
export async function pollRegistration(
  db: Database,
  input: { registration_id: string; registration_secret: string; node_id: string },
  pollSeconds: number,
): Promise<{ pending: EnrollAccepted } | { nodeId: string }> {
  const refused = () => new ApiError("unauthorized", "Registration not recognised");
  // Only "not found" becomes the refusal; a database failure stays a 503.
  const row = await getRegistration(db, input.registration_id).catch((err: unknown) => {
    if (err instanceof ApiError && err.code === "not_found") return undefined;
    throw err;
  });
  if (!row || !(await constantTimeEqual(await sha256Hex(input.registration_secret), row.pollSecretHash)))
    throw refused();
  if (row.proposedNodeId !== input.node_id) throw refused();
  if (row.status === "pending") {
    return {
      pending: {
        registration_id: row.id,
        status: "pending",
        retry_after_seconds: pollSeconds,
      },
    };
  }
  if (row.status === "rejected") throw new ApiError("forbidden", "Registration rejected by an administrator");
  if (row.status === "expired")
    throw new ApiError("forbidden", "Registration expired before an administrator approved it");
  // Approved: hand the token over once; a conditional clear makes two concurrent polls one winner.
  const [taken] = await db
    .update(nodeRegistrations)
    .set({ apiTokenCiphertext: null, updatedAt: Date.now() })
    .where(and(eq(nodeRegistrations.id, row.id), isNotNull(nodeRegistrations.apiTokenCiphertext)))
    .returning({ ciphertext: nodeRegistrations.apiTokenCiphertext });
  if (!taken) throw new ApiError("conflict", "This registration's node token was already collected");
  // The answer is the node as it is now (its current token, should it have been rotated since).
  return { nodeId: row.proposedNodeId };
}

/**
 * Approves a pending registration: creates its node (in `clusterName` when given, else the key's
 * cluster) with a token held encrypted for the agent's next poll, in one transaction with the
 * registration's change and the events. The same checks as an enrolment apply under the lock:
 * tombstone, takeover rules, node limit, free address.
 * @throws ApiError 404 | 409 (not pending, full cluster, clashing node) | 403 (blocked id)
 */
export async function approveRegistration(
  db: Database,
  config: Config,
  id: string,
  decidedBy: string,
  clusterName?: string,
): Promise<NodeRegistrationRow> {
  const secrets = await newNodeSecrets(config);
  try {
    await db.transaction(async (tx) => {
      const row = await getRegistration(tx, id);
      if (row.status !== "pending") throw notPending(row);
      const [cluster] = await tx
        .select()
        .from(clusters)
        .where(clusterName === undefined ? eq(clusters.id, row.clusterId) : eq(clusters.name, clusterName));
      if (!cluster)
        throw new ApiError("validation_failed", "Validation failed", {
          cluster_name: ["cluster not found"],
        });
      const now = Date.now();
      await refuseTombstoned(tx, row.proposedNodeId);
      const existing = await readExistingNode(tx, row.proposedNodeId);
      // Only a node whose token an administrator revoked may be taken over by a registration.
      if (existing) await checkReregistration(existing, { id_type: row.idType }, cluster.id);
      const input = {
        node_id: row.proposedNodeId,
        id_type: row.idType,
        hostname: row.hostname,
        platform: row.platform ?? "unknown",
        version: row.agentVersion ?? "unknown",
      };
      await writeEnrolledNode(tx, { cluster, input, existing, secrets, now });
      const [changed] = await tx
        .update(nodeRegistrations)
        .set({
          status: "approved",
          clusterId: cluster.id,
          apiTokenCiphertext: secrets.tokenCiphertext,
          decidedBy,
          decidedAt: now,
          updatedAt: now,
        })
        .where(and(eq(nodeRegistrations.id, row.id), eq(nodeRegistrations.status, "pending")))
        .returning({ id: nodeRegistrations.id });
      if (!changed) throw notPending(row);
      await recordEvent(
        tx,
        "edge.node_registration.approved",
        { ...registrationEventData(row, cluster.name), decided_by: decidedBy },
        now,
      );
    });
  } catch (err) {
    if (isUniqueViolation(err))
      throw new ApiError("conflict", "An alias of this node already exists in the cluster");
    throw err;
  }
  return getRegistration(db, id);
}
