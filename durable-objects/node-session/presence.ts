import { sql } from "drizzle-orm";
import type { Database } from "../../src/db/client";
import { clusters, nodes } from "../../src/db/schema";
import { recordEventWhere } from "../../src/events/outbox";
import {
  type LastSeen,
  type NodeStatus,
  nodeStatusStatements,
  type StatusChange,
} from "../../src/nodes/status";
import { confirmRebootStatement } from "../../src/power-actions/store";
import { updatedOnHelloStatement } from "../../src/self-update-requests/rollout";
import { type LiveExecution, liveExecutionsQuery } from "./delivery";
import { type HelloFacts, helloFactsUpdate } from "./hello-facts";
import type { SessionStore } from "./store";

/** `last_seen_at` is written to libSQL at most this often per node; heartbeats in between stay in the DO. */
export const LAST_SEEN_WRITE_INTERVAL_MS = 30_000;

export interface PresenceState {
  lastHeartbeatAt: number;
  lastSeenWrittenAt: number;
  heartbeatIntervalSeconds: number;
  status: NodeStatus;
  /** When the status last flipped between `healthy` and `unhealthy` (damping, `observe`). */
  flippedAt?: number;
}

/**
 * Reads the presence record (defaults for a node that never connected). The stored
 * `lastHeartbeatAt` is only rewritten on hello and on changes: a heartbeat's time is its metrics
 * sample's, so a routine heartbeat costs one storage write, not two.
 */
export function readPresence(store: SessionStore): PresenceState {
  const stored = store.get<PresenceState>("presence") ?? {
    lastHeartbeatAt: 0,
    lastSeenWrittenAt: 0,
    heartbeatIntervalSeconds: 15,
    status: "unreachable" as NodeStatus,
  };
  return { ...stored, lastHeartbeatAt: Math.max(stored.lastHeartbeatAt, store.latestSampleAt()) };
}

/** How long without a heartbeat before the node counts as unreachable. */
export function staleWindowMs(presence: PresenceState, factor: number): number {
  return presence.heartbeatIntervalSeconds * factor * 1000;
}

/**
 * Applies a status the node's own evidence implies (hello, heartbeat, close,
 * alarm); `seen` says the agent was heard from just now (`"sampled"`: by a heartbeat whose sample
 * is stored). Flips between `healthy` and `unhealthy` are damped (`minFlipIntervalMs`). Writes to
 * libSQL only on a real change, or to refresh `last_seen_at` once per `LAST_SEEN_WRITE_INTERVAL_MS`
 * (through `touchLastSeen`, which groups a fleet's refreshes), each write through `write`.
 */
export async function observe(
  store: SessionStore,
  nodeId: string,
  status: NodeStatus,
  reason: string,
  seen: boolean | "sampled",
  options: {
    /** Refreshes `last_seen_at` (grouped by the node's batch writer). */
    touchLastSeen: (seen: LastSeen) => Promise<NodeStatus | null>;
    /** Writes a status change with its event (grouped with other nodes' by the batch writer); true if applied. */
    setStatus: (change: StatusChange) => Promise<boolean>;
    /** Least time between two flips between `healthy` and `unhealthy`. */
    minFlipIntervalMs: number;
    /** Runs each libSQL write, trying it again on transient errors (`retryTransient`). */
    write: <T>(write: () => Promise<T>) => Promise<T>;
    /** Refresh now even if `last_seen_at` is recent (the latest metrics are due and ride along). */
    forceTouch?: boolean;
  },
): Promise<void> {
  const { touchLastSeen, setStatus, minFlipIntervalMs, write } = options;
  const presence = readPresence(store);
  const stored = store.get<PresenceState>("presence");
  const now = Date.now();
  // "sampled": the heartbeat's sample already records when it was seen.
  if (seen === true) presence.lastHeartbeatAt = now;
  else if (stored) presence.lastHeartbeatAt = stored.lastHeartbeatAt;
  const dueSeen =
    seen && (options.forceTouch === true || now - presence.lastSeenWrittenAt >= LAST_SEEN_WRITE_INTERVAL_MS);
  // A flip between healthy and unhealthy writes a status row, an event and webhooks: a check that
  // alternates must not do that on every heartbeat. A flip too soon waits for the next heartbeat
  // after the interval; becoming (or leaving) unreachable is never held back.
  const flip = presence.status !== status && status !== "unreachable" && presence.status !== "unreachable";
  if (flip && now - (presence.flippedAt ?? 0) < minFlipIntervalMs) status = presence.status;
  if (presence.status !== status) {
    const lastSeenAt = seen ? now : undefined;
    await write(() => setStatus({ nodeId, to: status, reason, lastSeenAt }));
    presence.status = status;
    if (flip) presence.flippedAt = now;
    if (seen) presence.lastSeenWrittenAt = now;
  } else if (dueSeen) {
    // Stored before the wait, in the same synchronous turn as the heartbeat's sample, so both go to
    // the object's SQLite in one commit: locally every commit is an fsync on the one workerd thread,
    // and a second commit per node every 30 s was a third of a fleet's background fsyncs (issue 23).
    // A refresh that fails past its retries closes the socket (the hello after the reconnect
    // writes last_seen_at); the cron's window allows for the wait.
    presence.lastSeenWrittenAt = now;
    store.set("presence", presence);
    const stored = await write(() => touchLastSeen({ nodeId, at: now }));
    // The cron's safety net may have marked the node unreachable while our writes were failing; put it right.
    if (stored && stored !== status) await write(() => setStatus({ nodeId, to: status, reason }));
  }
  store.set("presence", presence); // skipped by the store when nothing changed
}

/**
 * Everything a `hello` needs from libSQL, in one batch (a reconnect storm is
 * thousands of these): the agent's facts (a version change emits
 * `edge.node.version_changed`), the node turning `healthy` with its
 * `edge.node.status_changed` event and `last_seen_at`, the cluster name for
 * `config`, and the node's live executions to send again.
 * Returns null when the node no longer exists.
 */
export async function recordHello(
  db: Database,
  nodeId: string,
  facts: HelloFacts,
): Promise<{
  clusterName: string;
  metricsDetailIntervalSeconds: number | null;
  live: LiveExecution[];
  statusChanged: boolean;
  /** Self-update rollouts this hello finished a node of (its agent now runs their release). */
  updatedRollouts: string[];
  /** Commands whose power action this hello confirmed (a fleet rollout's slot freed). */
  rebootedCommands: string[];
} | null> {
  const now = Date.now();
  const status: NodeStatus = "healthy";
  const reason = "agent connected";
  const [updated, rebooted, , , , statusUpdate, cluster, live] = await db.batch([
    updatedOnHelloStatement(db, nodeId, facts.version, now),
    // Before the facts are stored: it compares the hello's boot id with the stored one.
    confirmRebootStatement(db, nodeId, facts.boot_id, now),
    recordEventWhere(
      db,
      "edge.node.version_changed",
      sql`json_object('node_id', n.id, 'cluster_name', c.name, 'from', n.version, 'to', ${facts.version})`,
      sql`FROM ${nodes} n JOIN ${clusters} c ON c.id = n.cluster_id WHERE n.id = ${nodeId} AND n.version IS NOT ${facts.version}`,
      now,
    ),
    db.run(helloFactsUpdate(nodeId, facts, now)),
    ...nodeStatusStatements(db, nodeId, status, reason, now, { lastSeenAt: now }),
    db.all<{ clusterName: string; seconds: number | null }>(
      sql`SELECT c.name AS clusterName, c.metrics_detail_interval_seconds AS seconds
            FROM ${nodes} n JOIN ${clusters} c ON c.id = n.cluster_id WHERE n.id = ${nodeId}`,
    ),
    db.all<LiveExecution>(liveExecutionsQuery(nodeId)),
  ]);
  const row = (cluster as { clusterName: string; seconds: number | null }[])[0];
  if (!row) return null;
  const statusChanged = (statusUpdate as { rowsAffected: number }).rowsAffected > 0;
  const updatedRollouts = [...new Set((updated as { request_id: string }[]).map((r) => r.request_id))];
  return {
    clusterName: row.clusterName,
    metricsDetailIntervalSeconds: row.seconds,
    live: live as LiveExecution[],
    statusChanged,
    updatedRollouts,
    rebootedCommands: (rebooted as { command_id: string }[]).map((r) => r.command_id),
  };
}
