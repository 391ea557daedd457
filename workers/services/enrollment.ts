import { and, eq, sql } from "drizzle-orm";
import { encryptSecret, randomSecret, sha256Hex } from "../../src/crypto/secrets";
import type { Database } from "../../src/db/client";
import { isDatabaseBusy, isUniqueViolation } from "../../src/db/errors";
import { aliases, clusters, enrollmentKeys, nodes } from "../../src/db/schema";
import { recordEvent } from "../../src/events/outbox";
import { allocateAddress } from "../../src/nodes/address";
import { nodeNameFor } from "../../src/nodes/names";
import type { Config } from "../env";
import { ApiError } from "../errors";

export interface EnrollInput {
  key: string;
  node_id: string;
  id_type: "persistent" | "random";
  hostname: string;
  platform: string;
  arch?: string;
  version: string;
}

type Tx = Parameters<Parameters<Database["transaction"]>[0]>[0];

const KEY_REFUSALS = {
  unknown: new ApiError("unauthorized", "Enrollment key not recognised"),
  expired: new ApiError("forbidden", "Enrollment key has expired"),
  spent: new ApiError("forbidden", "Enrollment key has no uses left"),
};

async function spendKey(tx: Tx, secret: string, now: number) {
  const keyHash = await sha256Hex(secret);
  const [spent] = await tx
    .update(enrollmentKeys)
    .set({
      usesRemaining: sql`CASE WHEN ${enrollmentKeys.usesRemaining} IS NULL THEN NULL ELSE ${enrollmentKeys.usesRemaining} - 1 END`,
      lastUsedAt: now,
      updatedAt: now,
    })
    .where(
      and(
        eq(enrollmentKeys.keyHash, keyHash),
        sql`(${enrollmentKeys.usesRemaining} IS NULL OR ${enrollmentKeys.usesRemaining} > 0)`,
        sql`(${enrollmentKeys.expiredAt} IS NULL OR ${enrollmentKeys.expiredAt} > ${now})`,
      ),
    )
    .returning({ id: enrollmentKeys.id, clusterId: enrollmentKeys.clusterId });
  if (spent) return spent;
  const [key] = await tx.select().from(enrollmentKeys).where(eq(enrollmentKeys.keyHash, keyHash));
  if (!key) throw KEY_REFUSALS.unknown;
  throw key.expiredAt !== null && key.expiredAt <= now ? KEY_REFUSALS.expired : KEY_REFUSALS.spent;
}

/**
 * A seat in the cluster for a node that has no address there yet: the node_limit check reads the
 * cluster's trigger-kept `node_count` and the address comes from `allocateAddress`, so neither reads
 * the cluster's members while the transaction holds the write lock. `alreadyMember`: the node is
 * counted in the cluster already (a re-enrolment in the same cluster without an address).
 */
async function claimSeat(tx: Tx, cluster: typeof clusters.$inferSelect, alreadyMember: boolean) {
  const others = cluster.nodeCount - (alreadyMember ? 1 : 0);
  if (cluster.nodeLimit !== null && others >= cluster.nodeLimit) {
    throw new ApiError("conflict", `Cluster "${cluster.name}" is full (node_limit ${cluster.nodeLimit})`);
  }
  const address = await allocateAddress(tx, cluster);
  if (!address)
    throw new ApiError(
      "conflict",
      `Cluster "${cluster.name}" has no free address left in ${cluster.ipv4Range}`,
    );
  return address;
}

/**
 * Enrols (or re-registers) a node in one write transaction: the key use, the
 * node row and the events commit together, so a refused enrolment (full
 * cluster, clashing id) never spends a use.
 * Returns the node id and a fresh `api_token` (shown to the agent once, stored encrypted).
 */
export async function enrollNode(db: Database, config: Config, input: EnrollInput) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await enrollInTransaction(db, config, input);
    } catch (err) {
      if (isUniqueViolation(err))
        throw new ApiError("conflict", "An alias of this node already exists in the key's cluster");
      // A burst of enrolments queues on the write lock; a busy transaction rolled back whole, so
      // it is tried again after a jittered pause before the caller sees a 503.
      if (!isDatabaseBusy(err) || attempt >= BUSY_ATTEMPTS) throw err;
      await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 200 * attempt));
    }
  }
}

/** Tries of one enrolment transaction that found the database locked. */
const BUSY_ATTEMPTS = 4;

async function enrollInTransaction(db: Database, config: Config, input: EnrollInput) {
  const apiToken = randomSecret(32);
  const tokenHash = await sha256Hex(apiToken);
  const tokenCiphertext = await encryptSecret(apiToken, config.encryptionKey);
  const proxyPasswordCiphertext = await encryptSecret(randomSecret(18), config.encryptionKey);

  return db.transaction(async (tx) => {
    const now = Date.now();
    const key = await spendKey(tx, input.key, now);
    const [cluster] = await tx.select().from(clusters).where(eq(clusters.id, key.clusterId));
    const [existing] = await tx.select().from(nodes).where(eq(nodes.id, input.node_id));
    if (existing && (existing.idType === "random" || input.id_type === "random")) {
      throw new ApiError("conflict", "A node with this id already exists; random ids must be unique");
    }
    const address =
      existing && existing.clusterId === cluster.id && existing.ipv4Address
        ? existing.ipv4Address
        : await claimSeat(tx, cluster, existing?.clusterId === cluster.id);
    const facts = { hostname: input.hostname, platform: input.platform, version: input.version };
    if (existing) {
      await tx
        .update(nodes)
        .set({
          ...facts,
          clusterId: cluster.id,
          ipv4Address: address,
          apiTokenHash: tokenHash,
          apiTokenCiphertext: tokenCiphertext,
          updatedAt: now,
        })
        .where(eq(nodes.id, existing.id));
      if (existing.clusterId !== cluster.id) {
        // Aliases follow their node; a name clash in the new cluster is a unique violation → 409, and the key use rolls back.
        await tx
          .update(aliases)
          .set({ clusterId: cluster.id, updatedAt: now })
          .where(eq(aliases.nodeId, existing.id));
      }
    } else {
      await tx.insert(nodes).values({
        id: input.node_id,
        idType: input.id_type,
        clusterId: cluster.id,
        nodeName: nodeNameFor(input.node_id),
        status: "unreachable",
        ...facts,
        ipv4Address: address,
        apiTokenHash: tokenHash,
        apiTokenCiphertext: tokenCiphertext,
        proxyPasswordCiphertext,
        selfUpdateEnabled: true,
        insertedAt: now,
        updatedAt: now,
      });
    }
    await recordEvent(
      tx,
      "edge.enrollment_key.verified",
      {
        enrollment_key_id: key.id,
        cluster_name: cluster.name,
        node_id: input.node_id,
      },
      now,
    );
    await recordEvent(
      tx,
      existing ? "edge.node.reregistered" : "edge.node.registered",
      {
        node_id: input.node_id,
        id_type: existing?.idType ?? input.id_type,
        cluster_name: cluster.name,
        previous_cluster_name:
          existing && existing.clusterId !== cluster.id
            ? await clusterName(tx, existing.clusterId)
            : undefined,
        hostname: input.hostname,
        version: input.version,
      },
      now,
    );
    return { nodeId: input.node_id, apiToken, reregistered: Boolean(existing) };
  });
}

async function clusterName(tx: Tx, id: string): Promise<string | undefined> {
  const [row] = await tx.select({ name: clusters.name }).from(clusters).where(eq(clusters.id, id));
  return row?.name;
}
