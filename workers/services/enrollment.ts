import { and, eq, sql } from "drizzle-orm";
import type { Config } from "../../src/config";
import { encryptSecret, randomSecret, sha256Hex } from "../../src/crypto/secrets";
import type { Database } from "../../src/db/client";
import { isDatabaseBusy, isUniqueViolation } from "../../src/db/errors";
import { clusters, enrollmentKeys, nodes } from "../../src/db/schema";
import {
  checkReregistration,
  type ExistingNode,
  KEY_REFUSALS,
  readExistingNode,
  readUsableKey,
  refuseTombstoned,
} from "../../src/enrollment/precheck";
import { recordEvent } from "../../src/events/outbox";
import { allocateAddress } from "../../src/nodes/address";
import { nodeNameFor } from "../../src/nodes/names";
import { ApiError } from "../errors";

export interface EnrollInput {
  key: string;
  node_id: string;
  id_type: "persistent" | "random";
  hostname: string;
  platform: string;
  arch?: string;
  version: string;
  /** The node's current token: the proof a re-registration of an existing id needs (review H1). */
  api_token?: string;
}

export type Tx = Parameters<Parameters<Database["transaction"]>[0]>[0];

/** Spends one use of the key under the write lock, or throws its refusal. */
export async function spendKey(tx: Tx, secret: string, now: number) {
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
  if (!key) throw KEY_REFUSALS.unknown();
  throw key.expiredAt !== null && key.expiredAt <= now ? KEY_REFUSALS.expired() : KEY_REFUSALS.spent();
}

/**
 * A seat in the cluster for a node that has no address there yet: the node_limit check reads the
 * cluster's trigger-kept `node_count` and the address comes from `allocateAddress`, so neither reads
 * the cluster's members while the transaction holds the write lock. `alreadyMember`: the node is
 * counted in the cluster already (a re-enrolment in the same cluster without an address).
 */
export async function claimSeat(tx: Tx, cluster: typeof clusters.$inferSelect, alreadyMember: boolean) {
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
 * Refuses what a read can refuse, before any write (review H2, H1): an unknown, expired or spent
 * key, a blocked (tombstoned) node id, and a re-registration without proof or into another cluster.
 * Returns the key and whether the request needs an administrator's approval: the key requires it
 * and the request is not a node proving itself with its current token (that node was approved once).
 */
export async function precheckEnrolment(db: Database, input: EnrollInput) {
  const key = await readUsableKey(db, input.key);
  await refuseTombstoned(db, input.node_id);
  const existing = await readExistingNode(db, input.node_id);
  const ground = existing ? await checkReregistration(existing, input, key.clusterId) : undefined;
  return { key, needsApproval: key.requiresApproval && ground !== "proven" };
}

/**
 * Enrols (or re-registers) a node in one write transaction: the key use, the
 * node row and the events commit together, so a refused enrolment (full
 * cluster, clashing id) never spends a use. Call `precheckEnrolment` first: this
 * repeats its checks under the write lock (the state may have changed in between).
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
  const secrets = await newNodeSecrets(config);
  return db.transaction(async (tx) => {
    const now = Date.now();
    const key = await spendKey(tx, input.key, now);
    const [cluster] = await tx.select().from(clusters).where(eq(clusters.id, key.clusterId));
    await refuseTombstoned(tx, input.node_id);
    const existing = await readExistingNode(tx, input.node_id);
    // Re-checked under the lock; a refusal rolls the key use back.
    if (existing) await checkReregistration(existing, input, cluster.id);
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
    await writeEnrolledNode(tx, { cluster, input, existing, secrets, now });
    return { nodeId: input.node_id, apiToken: secrets.apiToken, reregistered: Boolean(existing) };
  });
}

/** A new node's secrets: its token (plain once, hashed and encrypted) and its proxy password. */
export async function newNodeSecrets(config: Config) {
  const apiToken = randomSecret(32);
  return {
    apiToken,
    tokenHash: await sha256Hex(apiToken),
    tokenCiphertext: await encryptSecret(apiToken, config.encryptionKey),
    proxyPasswordCiphertext: await encryptSecret(randomSecret(18), config.encryptionKey),
  };
}

/**
 * Writes an enrolled node inside the caller's transaction, after its checks: a new row with a seat
 * in the cluster, or the existing row with a fresh token, and the registered/reregistered event.
 * Shared by enrolment and by the approval of a registration.
 */
export async function writeEnrolledNode(
  tx: Tx,
  args: {
    cluster: typeof clusters.$inferSelect;
    input: Pick<EnrollInput, "node_id" | "id_type" | "hostname" | "platform" | "version">;
    existing: ExistingNode | undefined;
    secrets: Awaited<ReturnType<typeof newNodeSecrets>>;
    now: number;
  },
): Promise<void> {
  const { cluster, input, existing, secrets, now } = args;
  const address = existing?.ipv4Address ?? (await claimSeat(tx, cluster, existing !== undefined));
  const facts = { hostname: input.hostname, platform: input.platform, version: input.version };
  if (existing) {
    await tx
      .update(nodes)
      .set({
        ...facts,
        ipv4Address: address,
        apiTokenHash: secrets.tokenHash,
        apiTokenCiphertext: secrets.tokenCiphertext,
        tokenRevokedAt: null,
        updatedAt: now,
      })
      .where(eq(nodes.id, existing.id));
  } else {
    await tx.insert(nodes).values({
      id: input.node_id,
      idType: input.id_type,
      clusterId: cluster.id,
      nodeName: nodeNameFor(input.node_id),
      status: "unreachable",
      ...facts,
      ipv4Address: address,
      apiTokenHash: secrets.tokenHash,
      apiTokenCiphertext: secrets.tokenCiphertext,
      proxyPasswordCiphertext: secrets.proxyPasswordCiphertext,
      selfUpdateEnabled: true,
      insertedAt: now,
      updatedAt: now,
    });
  }
  await recordEvent(
    tx,
    existing ? "edge.node.reregistered" : "edge.node.registered",
    {
      node_id: input.node_id,
      id_type: existing?.idType ?? input.id_type,
      cluster_name: cluster.name,
      hostname: input.hostname,
      version: input.version,
    },
    now,
  );
}
