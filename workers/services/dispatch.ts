import { type DispatchMessage, type Env, loadConfig } from "../../src/config";
import { createDatabase } from "../../src/db/client";
import { type ClaimedExecution, claimPendingForNodes, DELIVERY_BATCH } from "../../src/executions/lifecycle";
import { createLogger } from "../../src/log";
import { CallLimit } from "./call-limit";
import { pushClusterConfig } from "./cluster-config";
import { nodeSession } from "./node-sessions";

const log = createLogger({ fields: { service: "dispatch" } });

/** Above this many target nodes, fan-out goes through the dispatch queue instead of the request's own subrequests. */
export const DIRECT_FANOUT_LIMIT = 50;
/** Node ids per queue message, and per claim (one libSQL round trip). */
export const NODES_PER_MESSAGE = 100;
/** Concurrent DO calls per fan-out (per queue message). */
const CONCURRENCY = 32;

/**
 * Runs `task` over `items`, at most `CONCURRENCY` at a time (or as `limit` allows, when it is shared
 * with other calls); returns how many threw (each logged).
 */
async function forEachBounded<T>(
  items: T[],
  label: (item: T) => Record<string, unknown>,
  task: (item: T) => Promise<void>,
  limit: CallLimit = new CallLimit(CONCURRENCY),
): Promise<number> {
  let failed = 0;
  await Promise.all(
    items.map((item) =>
      limit.run(async () => {
        try {
          await task(item);
        } catch (err) {
          failed++;
          log.warn("delivery request failed", { ...label(item), error: err });
        }
      }),
    ),
  );
  return failed;
}

/**
 * Hands claimed rows to their nodes' sessions, which send them to connected agents without touching
 * the database. A session that cannot be reached leaves its rows `sent` but unseen: the agent gets
 * them with its next hello, and the cron re-sends `sent` rows that stay unfinished.
 */
export async function pushClaimed(
  env: Env,
  claimed: Map<string, ClaimedExecution[]>,
  limit?: CallLimit,
): Promise<{ delivered: number; failed: number }> {
  const entries = [...claimed.entries()];
  const failed = await forEachBounded(
    entries,
    ([nodeId]) => ({ node_id: nodeId }),
    async ([nodeId, executions]) => {
      await (await nodeSession(env, nodeId)).pushExecutions(executions);
    },
    limit,
  );
  return { delivered: entries.length - failed, failed };
}

/**
 * Delivers the `pending` rows of many nodes: claims those of connected nodes in one libSQL round
 * trip per `NODES_PER_MESSAGE` nodes, then pushes each node's rows to its session. A claim that
 * fails is left to the cron's re-dispatch.
 *
 * With `resend` (the cron's safety net), each session instead re-reads and re-sends its node's
 * `pending` and `sent` rows itself. `limit` bounds the pushes together with other deliveries of
 * the same invocation (a queue batch); without it, this call alone runs `CONCURRENCY` at a time.
 */
export async function deliverToNodes(
  env: Env,
  nodeIds: string[],
  options: { resend?: boolean; limit?: CallLimit } = {},
): Promise<{ delivered: number; failed: number }> {
  if (options.resend) {
    const failed = await forEachBounded(
      nodeIds,
      (nodeId) => ({ node_id: nodeId }),
      async (nodeId) => {
        await nodeSession(env, nodeId).deliver({ resend: true });
      },
    );
    return { delivered: nodeIds.length - failed, failed };
  }
  const config = loadConfig(env);
  const db = createDatabase({ url: config.libsqlUrl, authToken: config.libsqlAuthToken });
  let delivered = 0;
  let failed = 0;
  for (let i = 0; i < nodeIds.length; i += NODES_PER_MESSAGE) {
    const chunk = nodeIds.slice(i, i + NODES_PER_MESSAGE);
    let claimed: Map<string, ClaimedExecution[]>;
    try {
      claimed = await claimPendingForNodes(db, chunk, DELIVERY_BATCH);
    } catch (err) {
      failed += chunk.length;
      log.warn("claiming executions for delivery failed", { nodes: chunk.length, error: err });
      continue;
    }
    const pushed = await pushClaimed(env, claimed, options.limit);
    delivered += pushed.delivered;
    failed += pushed.failed;
  }
  return { delivered, failed };
}

/** Whether a fan-out to this many nodes runs in the creating request (its rows claimed in the creation's batch). */
export function isDirectFanout(env: Env, nodeCount: number): boolean {
  return nodeCount <= DIRECT_FANOUT_LIMIT || !env.DISPATCH_QUEUE;
}

/**
 * Fans new executions out to their nodes' sessions. A small target set was claimed in the command's
 * own batch (`claimed`) and is pushed in the background of this request; a large one is split into
 * queue messages so no single invocation hits the subrequest limit.
 */
export async function dispatchExecutions(
  env: Env,
  ctx: { waitUntil(promise: Promise<unknown>): void },
  nodeIds: string[],
  claimed?: Map<string, ClaimedExecution[]>,
): Promise<"direct" | "queue"> {
  const unique = [...new Set(nodeIds)];
  if (claimed) {
    ctx.waitUntil(pushClaimed(env, claimed));
    return "direct";
  }
  const queue = env.DISPATCH_QUEUE;
  if (!queue || isDirectFanout(env, unique.length)) {
    ctx.waitUntil(deliverToNodes(env, unique));
    return "direct";
  }
  const messages: { body: DispatchMessage }[] = [];
  for (let i = 0; i < unique.length; i += NODES_PER_MESSAGE)
    messages.push({ body: { node_ids: unique.slice(i, i + NODES_PER_MESSAGE) } });
  // sendBatch takes at most 100 messages per call.
  for (let i = 0; i < messages.length; i += 100) await queue.sendBatch(messages.slice(i, i + 100));
  return "queue";
}

/**
 * The queue consumer: delivers the nodes of every message in the batch at once (one message after
 * another left the machine idle waiting on single Durable Objects), `CONCURRENCY` session calls at
 * a time for the whole batch; a message whose deliveries all failed is retried, partial failures
 * are left to the cron's re-dispatch.
 *
 * One limit for the batch, not one per message: with ten messages a batch ran 320 calls at once,
 * and locally every session runs on workerd's one thread, so the calls past what keeps it busy only
 * queued there, ahead of the results, heartbeats and API reads that arrived meanwhile (a summary
 * read took 78.9 times its idle p99 during a fan-out to 1,000 nodes, issue 23).
 */
export async function consumeDispatchBatch(batch: MessageBatch<DispatchMessage>, env: Env): Promise<void> {
  const limit = new CallLimit(CONCURRENCY);
  await Promise.all(
    batch.messages.map(async (message) => {
      if (message.body.kind === "config") {
        // Best effort like the direct push: an agent that misses it learns with its next hello.
        const told = await pushClusterConfig(env, message.body.node_ids);
        if (told === 0 && message.body.node_ids.length > 0) message.retry();
        else message.ack();
        return;
      }
      const result = await deliverToNodes(env, message.body.node_ids, { limit });
      if (result.failed > 0 && result.delivered === 0) message.retry();
      else message.ack();
    }),
  );
}
