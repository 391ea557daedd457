import { DurableObject } from "cloudflare:workers";
import { advanceRolloutsAndClaim } from "../src/commands/rollout";
import { type Env, loadConfig } from "../src/config";
import { createDatabase, type Database } from "../src/db/client";
import { rpcSafeError } from "../src/db/errors";
import { retryTransient } from "../src/db/retry";
import { applyResults, type ExecutionResult, type ResultOutcome } from "../src/executions/lifecycle";
import { createLogger } from "../src/log";
import {
  type LastSeen,
  type NodeStatus,
  type StatusChange,
  setNodeStatuses,
  touchLastSeen,
} from "../src/nodes/status";
import { GroupCommit } from "./batch-writer/group-commit";
import { RolloutPacer } from "./batch-writer/rollout-pacer";

const log = createLogger({ fields: { service: "batch-writer" } });

// The binding is declared beside its class, so src/config.ts types it without importing this file.
declare module "../src/config" {
  interface Env {
    /** `BATCH_WRITER_SHARDS` writers, addressed `writer-<shard>`. */
    BATCH_WRITER?: DurableObjectNamespace<BatchWriter>;
  }
}

/** Results per libSQL batch (one set-based write whatever the number). */
const MAX_RESULTS_PER_WRITE = 100;
/** Output characters per libSQL batch: a few capped 1 MiB outputs, never hundreds of them at once. */
const MAX_OUTPUT_PER_WRITE = 4 * 1024 * 1024;
/** `last_seen_at` refreshes per libSQL statement. */
const MAX_TOUCHES_PER_WRITE = 500;
/** Status changes per libSQL batch (two set-based statements whatever the number). */
const MAX_STATUS_CHANGES_PER_WRITE = 500;
/** A status change waits this long for others (a stale window is seconds; a network cut's alarms spread over some ms). */
const STATUS_LINGER_MS = 50;

/**
 * Writes the NodeSessions' frequent small rows to libSQL in group commits: command results (a
 * fan-out to thousands of nodes returns thousands within moments), `last_seen_at` refreshes (a
 * fleet's heartbeats) and status changes (a fleet going away at once). Each session writing its own would cost one libSQL round trip per row; here
 * rows arriving while a write is in flight go together in the next one, so a lone row is written at
 * once and a burst of a thousand in a handful of writes. One of `BATCH_WRITER_SHARDS` objects, by
 * execution or node id. It holds nothing durable: a caller's promise resolves only after the write
 * that carried its row committed (a session acks its agent only then), so a lost writer means an
 * unacked result the agent sends again, or a `last_seen_at` refreshed by the next heartbeat.
 */
export class BatchWriter extends DurableObject<Env> {
  #db?: Database;
  readonly #results = new GroupCommit<ExecutionResult, ResultOutcome>(
    async (results) => {
      const outcomes = await applyResults(this.#database(), results);
      // A rollout's freed slots are filled right after the write that freed them, not after a
      // round trip back to each result's session (see `#advanceRollouts`).
      this.#rollouts.mark(outcomes.flatMap((o) => (o?.rollout ? [o.commandId] : [])));
      return outcomes;
    },
    {
      maxItems: MAX_RESULTS_PER_WRITE,
      maxSize: MAX_OUTPUT_PER_WRITE,
      sizeOf: (r) => r.output.length,
      retries: 2,
      retryDelayMs: 50,
    },
  );
  readonly #touches = new GroupCommit<LastSeen, NodeStatus | null>(
    (seen) => touchLastSeen(this.#database(), seen),
    {
      maxItems: MAX_TOUCHES_PER_WRITE,
      maxSize: MAX_TOUCHES_PER_WRITE,
      sizeOf: () => 1,
      retries: 2,
      retryDelayMs: 50,
    },
  );

  readonly #statuses = new GroupCommit<StatusChange, boolean>(
    (changes) => setNodeStatuses(this.#database(), changes),
    {
      maxItems: MAX_STATUS_CHANGES_PER_WRITE,
      maxSize: MAX_STATUS_CHANGES_PER_WRITE,
      sizeOf: () => 1,
      retries: 2,
      retryDelayMs: 50,
      lingerMs: STATUS_LINGER_MS,
    },
  );

  readonly #rollouts = new RolloutPacer(
    (commandIds) => this.#advanceRollouts(commandIds),
    (error, commandIds) =>
      log.warn("advancing rollouts after their results failed", { command_ids: commandIds, error }),
  );

  /**
   * Advances the rollouts of the results just written, releasing and claiming their next
   * executions in one transaction, and pushes those to their nodes' sessions (no database work
   * there). A push that fails leaves its rows `sent`: the agent gets them with its next hello, and
   * the cron re-delivers `sent` rows that stay unfinished.
   */
  async #advanceRollouts(commandIds: string[]): Promise<void> {
    const claimed = await retryTransient(() => advanceRolloutsAndClaim(this.#database(), commandIds));
    const ns = this.env.NODE_SESSION;
    if (!ns) return;
    for (const [nodeId, executions] of claimed) {
      ns.get(ns.idFromName(nodeId))
        .pushExecutions(executions)
        .catch((error) => log.warn("pushing a rollout's next executions failed", { node_id: nodeId, error }));
    }
  }

  #database(): Database {
    if (!this.#db) {
      const config = loadConfig(this.env);
      this.#db = createDatabase({ url: config.libsqlUrl, authToken: config.libsqlAuthToken });
    }
    return this.#db;
  }

  /** Applies one result in the next group write; resolves with its outcome once that write is committed. */
  async applyResult(result: ExecutionResult): Promise<ResultOutcome> {
    try {
      return await this.#results.submit(result);
    } catch (err) {
      throw rpcSafeError(err);
    }
  }

  /** Refreshes a node's `last_seen_at` in the next group write; resolves with its stored status. */
  async touchLastSeen(seen: LastSeen): Promise<NodeStatus | null> {
    try {
      return await this.#touches.submit(seen);
    } catch (err) {
      throw rpcSafeError(err);
    }
  }

  /** How many grouped status writes this writer made, carrying how many changes. */
  statusWrites(): { flushes: number; items: number } {
    return { ...this.#statuses.written };
  }

  /** Applies a node's status change in the next group write; resolves with whether it changed the row. */
  async setStatus(change: StatusChange): Promise<boolean> {
    try {
      return await this.#statuses.submit(change);
    } catch (err) {
      throw rpcSafeError(err);
    }
  }
}

/** FNV-1a of the id: spreads ids evenly over the shards, the same id always to the same one. */
function shardOf(id: string, shards: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    hash ^= id.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % shards;
}

function writerFor(env: Env, id: string) {
  const namespace = env.BATCH_WRITER;
  if (!namespace) return null;
  const shard = shardOf(id, loadConfig(env).batchWriterShards);
  return namespace.get(namespace.idFromName(`writer-${shard}`));
}

/** A result written: its outcome, and whether the writer moves its rollout on (else the caller must). */
export interface WrittenResult {
  outcome: ResultOutcome;
  rolloutAdvanced: boolean;
}

/**
 * Writes a result through its shard's writer, which also advances the result's rollout; without the
 * binding (a Worker configured without it), directly, leaving the advance to the caller.
 */
export async function writeResult(env: Env, db: Database, result: ExecutionResult): Promise<WrittenResult> {
  const writer = writerFor(env, result.executionId);
  if (!writer) return { outcome: (await applyResults(db, [result]))[0] ?? null, rolloutAdvanced: false };
  return { outcome: await writer.applyResult(result), rolloutAdvanced: true };
}

/** Refreshes `last_seen_at` through the node's shard's writer (directly without the binding). */
export async function writeLastSeen(env: Env, db: Database, seen: LastSeen): Promise<NodeStatus | null> {
  const writer = writerFor(env, seen.nodeId);
  if (!writer) return (await touchLastSeen(db, [seen]))[0] ?? null;
  return writer.touchLastSeen(seen);
}

/**
 * A node's status change through its shard's writer (directly without the binding): a fleet going
 * away at once (a network cut) is written in a few grouped batches, not one per node.
 */
export async function writeStatus(env: Env, db: Database, change: StatusChange): Promise<boolean> {
  const writer = writerFor(env, change.nodeId);
  if (!writer) return (await setNodeStatuses(db, [change]))[0] ?? false;
  return writer.setStatus(change);
}
