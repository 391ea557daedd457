import { sql } from "drizzle-orm";
import { type ROLLOUT_ORDERS, resolveLimit } from "../../src/commands/rollout-limits";
import type { Env } from "../../src/config";
import type { Database } from "../../src/db/client";
import { clusters, nodes, selfUpdateRequests as sur } from "../../src/db/schema";
import { createLogger } from "../../src/log";
import {
  completeSelfUpdateRequest,
  type Summary,
  type TriggeredPayload,
} from "../../src/self-update-requests/complete";
import { driveSelfUpdateRollout } from "../../src/self-update-requests/drive";
import { runningSelfUpdateRollouts, startSelfUpdateRollout } from "../../src/self-update-requests/rollout";
import type { SelfUpdateRow } from "../../src/self-update-requests/store";
import type { Targeting } from "../../src/targeting/schema";
import { ApiError } from "../errors";
import { nodeSession } from "./node-sessions";
import { resolveTargeting } from "./targeting";

/** The agent release a request rolls out; sent to each agent as the `self_update` frame. */
export interface Release {
  version: string;
  url: string;
  sha256: string;
  /** Set when the request allows agents on a newer version to install this one. */
  allow_downgrade?: boolean;
}

/** The node filters every self-update applies on top of its targeting (the Edge Admin contract: only healthy, enabled nodes). */
export const ELIGIBLE_NODE_FILTERS = { status: "healthy", self_update_enabled: true } as const;

/** A request still `pending` or `processing` this long after its last change is taken over by the cron. */
export const STALE_AFTER_MS = 2 * 60_000;

/** Concurrent NodeSession calls while triggering. */
const CONCURRENCY = 32;

/**
 * The targeting with the eligibility filters merged into `node_filters`, as stored and shown.
 * A filter that contradicts them (e.g. `status: "unhealthy"`) is a 422, not silently replaced.
 */
export function eligibleTargeting(targeting: Targeting): Targeting {
  const given = targeting.node_filters ?? {};
  const details: Record<string, string[]> = {};
  for (const [key, required] of Object.entries(ELIGIBLE_NODE_FILTERS)) {
    if (given[key] !== undefined && given[key] !== required) {
      details[`targeting.node_filters.${key}`] = [
        `self-updates only target nodes with ${key} = ${JSON.stringify(required)}`,
      ];
    }
  }
  if (Object.keys(details).length > 0) throw new ApiError("validation_failed", "Validation failed", details);
  return { ...targeting, node_filters: { ...given, ...ELIGIBLE_NODE_FILTERS } };
}

/**
 * Validates the targeting against the fleet (unknown ids or names, or no eligible
 * node, are 422s), then pins the release (`release()` runs only after that) and
 * writes the request `pending`.
 */
export async function createSelfUpdateRequest(
  db: Database,
  input: { targeting: Targeting; release: () => Promise<Release>; rollout?: RolloutInput },
  now = Date.now(),
): Promise<SelfUpdateRow> {
  const targeting = eligibleTargeting(input.targeting);
  try {
    await resolveTargeting(db, targeting);
  } catch (err) {
    if (err instanceof ApiError && err.details?.targeting) {
      throw new ApiError("validation_failed", "targeting matched no eligible nodes", {
        targeting: [
          "matched no healthy nodes with self_update_enabled; check the ids, names and filters, and the nodes' status",
        ],
      });
    }
    throw err;
  }
  const row: SelfUpdateRow = {
    id: crypto.randomUUID(),
    targeting: JSON.stringify(targeting),
    status: "pending",
    summary: null,
    release: JSON.stringify(await input.release()),
    maxConcurrency: input.rollout?.max_concurrency ?? null,
    maxErrors: input.rollout?.max_errors ?? null,
    concurrencyLimit: null,
    errorLimit: null,
    rolloutOrder: input.rollout?.max_concurrency ? (input.rollout.rollout_order ?? "oldest") : null,
    rolloutStatus: null,
    rolloutReason: null,
    insertedAt: now,
    updatedAt: now,
  };
  await db.insert(sur).values(row);
  return row;
}

interface Target {
  node_id: string;
  cluster_name: string;
  version: string | null;
}

// The targeting as stored, minus ids and names deleted since: a node removed after the request
// was accepted drops out instead of failing the whole request.
async function resolveCurrentTargets(db: Database, targeting: Targeting): Promise<Target[]> {
  let current = targeting;
  if (targeting.type === "nodes") {
    const rows = await db.all<{ id: string }>(
      sql`SELECT id FROM ${nodes} WHERE id IN (SELECT value FROM json_each(${JSON.stringify(targeting.node_ids)}))`,
    );
    if (rows.length === 0) return [];
    current = { ...targeting, node_ids: rows.map((r) => r.id) };
  } else if (targeting.type === "clusters") {
    const rows = await db.all<{ name: string }>(
      sql`SELECT name FROM ${clusters} WHERE name IN (SELECT value FROM json_each(${JSON.stringify(targeting.cluster_names)}))`,
    );
    if (rows.length === 0) return [];
    current = { ...targeting, cluster_names: rows.map((r) => r.name) };
  }
  let ids: string[];
  try {
    ids = await resolveTargeting(db, current);
  } catch (err) {
    if (err instanceof ApiError && err.code === "validation_failed") return [];
    throw err;
  }
  return db.all<Target>(sql`
    SELECT n.id AS node_id, c.name AS cluster_name, n.version AS version
      FROM ${nodes} n JOIN ${clusters} c ON c.id = n.cluster_id
     WHERE n.id IN (SELECT value FROM json_each(${JSON.stringify(ids)}))
     ORDER BY n.inserted_at, n.id`);
}

/** The rollout limits a request may carry (C11): the same as a command's. */
export interface RolloutInput {
  max_concurrency?: string;
  max_errors?: string;
  rollout_order?: (typeof ROLLOUT_ORDERS)[number];
}

function shuffled<T>(items: T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/** Tells one node's agent to update; false when it is not connected. */
function sender(env: Env, release: Release) {
  return (nodeId: string) => nodeSession(env, nodeId).sendFrame({ type: "self_update", ...release });
}

/**
 * A request with `max_concurrency`: its targets, resolved now and ordered (oldest node first, or
 * shuffled), are written as the rollout's and the first window is told (`drive.ts`).
 */
async function startRollout(env: Env, db: Database, row: SelfUpdateRow, release: Release) {
  const resolved = await resolveCurrentTargets(db, JSON.parse(row.targeting));
  const targets = row.rolloutOrder === "random" ? shuffled(resolved) : resolved;
  await startSelfUpdateRollout(
    db,
    row.id,
    targets.map((t) => ({ node_id: t.node_id, from_version: t.version })),
    {
      concurrency: resolveLimit(row.maxConcurrency ?? "1", targets.length, 1),
      errors: row.maxErrors === null ? null : resolveLimit(row.maxErrors, targets.length, 0),
    },
  );
  await driveSelfUpdateRollout(db, row.id, sender(env, release));
}

/** The cron's pass over running self-update rollouts: time-outs, and advances a lost hello missed. */
export async function advanceSelfUpdateRollouts(env: Env, db: Database): Promise<{ advanced: number }> {
  const ids = await runningSelfUpdateRollouts(db, 50);
  for (const id of ids) {
    const row = await db.select().from(sur).where(sql`${sur.id} = ${id}`).limit(1);
    const release = JSON.parse(row[0]?.release ?? "null") as Release | null;
    if (release) await driveSelfUpdateRollout(db, id, sender(env, release));
  }
  return { advanced: ids.length };
}

/** Sends the `self_update` frame to each target's session, a bounded number at a time; returns who got it. */
async function trigger(env: Env, targets: Target[], release: Release): Promise<Set<string>> {
  const triggered = new Set<string>();
  let next = 0;
  async function worker() {
    while (next < targets.length) {
      const target = targets[next++];
      try {
        // False when the agent is not connected right now.
        if (await nodeSession(env, target.node_id).sendFrame({ type: "self_update", ...release }))
          triggered.add(target.node_id);
      } catch (err) {
        createLogger().warn("self_update send failed", { node_id: target.node_id, error: err });
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, targets.length) }, worker));
  return triggered;
}

/**
 * Runs one request: claims it (`pending` → `processing`, or a stale one when
 * `staleBefore` is given), resolves its targets now, sends each connected
 * agent the pinned release, then completes it with its summary, one
 * `edge.node.update_triggered` per triggered node and
 * `edge.self_update_request.completed`, all in one batch. The batch only
 * applies while this run still holds the claim, so a run the cron took over
 * leaves no trace. Returns the summary, or null when the claim was not won or was lost.
 */
export async function processSelfUpdateRequest(
  env: Env,
  db: Database,
  id: string,
  options: { staleBefore?: number; now?: () => number } = {},
): Promise<Summary | null> {
  const now = options.now ?? Date.now;
  const claimedAt = now();
  const claimable =
    options.staleBefore === undefined
      ? sql`${sur.status} = 'pending'`
      : sql`${sur.status} IN ('pending', 'processing') AND ${sur.updatedAt} < ${options.staleBefore}`;
  const [row] = await db
    .update(sur)
    .set({ status: "processing", updatedAt: claimedAt })
    .where(sql`${sur.id} = ${id} AND ${claimable}`)
    .returning();
  if (!row) return null;

  const release = JSON.parse(row.release ?? "null") as Release | null;
  if (row.maxConcurrency !== null && release) {
    await startRollout(env, db, row, release);
    return null;
  }
  const targets = release ? await resolveCurrentTargets(db, JSON.parse(row.targeting)) : [];
  const triggered = release ? await trigger(env, targets, release) : new Set<string>();
  const summary: Summary = {
    total: targets.length,
    triggered: triggered.size,
    failed: targets.length - triggered.size,
  };
  const payloads: TriggeredPayload[] = release
    ? targets
        .filter((t) => triggered.has(t.node_id))
        .map((t) => ({
          node_id: t.node_id,
          cluster_name: t.cluster_name,
          from_version: t.version,
          to_version: release.version,
          request_id: id,
        }))
    : [];
  return (await completeSelfUpdateRequest(db, id, claimedAt, summary, payloads, now())) ? summary : null;
}

/** Largest number of stale requests one cron tick finishes. */
export const STALE_BATCH = 10;

/**
 * The cron's safety net: requests left `pending` or `processing` longer than
 * `STALE_AFTER_MS` (their background run was lost) are processed again from
 * the start. Re-sending `self_update` is harmless: an agent already on the
 * version, or already updating, ignores it.
 */
export async function finishStaleSelfUpdateRequests(
  env: Env,
  db: Database,
  now = Date.now(),
): Promise<{ finished: number }> {
  const staleBefore = now - STALE_AFTER_MS;
  const rows = await db
    .select({ id: sur.id })
    .from(sur)
    // A rollout whose targets are written is driven by its own pass (advanceSelfUpdateRollouts).
    .where(
      sql`${sur.status} IN ('pending', 'processing') AND ${sur.updatedAt} < ${staleBefore} AND ${sur.rolloutStatus} IS NULL`,
    )
    .orderBy(sur.insertedAt, sur.id)
    .limit(STALE_BATCH);
  let finished = 0;
  for (const row of rows) {
    if (await processSelfUpdateRequest(env, db, row.id, { staleBefore })) finished++;
  }
  return { finished };
}

export { completeSelfUpdateRequest, type Summary, type TriggeredPayload };
