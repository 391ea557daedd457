import { describeError } from "../../src/db/errors";
import type { Env } from "../env";
import { callNodeSession } from "./node-sessions";

/** Above this many target nodes, fan-out goes through the dispatch queue instead of the request's own subrequests. */
export const DIRECT_FANOUT_LIMIT = 50;
/** Node ids per queue message. */
export const NODES_PER_MESSAGE = 100;
/** Concurrent DO calls per fan-out (per queue message). */
const CONCURRENCY = 32;

export interface DispatchMessage {
  node_ids: string[];
}

/** Asks each node's session to deliver its pending executions, a bounded number at a time; failures are left to the cron's re-dispatch. */
export async function deliverToNodes(
  env: Env,
  nodeIds: string[],
  options: { resend?: boolean } = {},
): Promise<{ delivered: number; failed: number }> {
  const path = options.resend ? "/internal/deliver?resend=1" : "/internal/deliver";
  let next = 0;
  let failed = 0;
  async function worker() {
    while (next < nodeIds.length) {
      const nodeId = nodeIds[next++];
      try {
        await callNodeSession(env, nodeId, path, { method: "POST" });
      } catch (err) {
        failed++;
        console.warn(
          JSON.stringify({
            level: "warn",
            msg: "delivery request failed",
            node_id: nodeId,
            error: describeError(err),
          }),
        );
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, nodeIds.length) }, worker));
  return { delivered: nodeIds.length - failed, failed };
}

/**
 * Fans new executions out to their nodes' sessions. Small target sets are
 * delivered in the background of this request; large ones are split into
 * queue messages so no single invocation hits the subrequest limit.
 */
export async function dispatchExecutions(
  env: Env,
  ctx: { waitUntil(promise: Promise<unknown>): void },
  nodeIds: string[],
): Promise<"direct" | "queue"> {
  const unique = [...new Set(nodeIds)];
  if (unique.length <= DIRECT_FANOUT_LIMIT || !env.DISPATCH_QUEUE) {
    ctx.waitUntil(deliverToNodes(env, unique));
    return "direct";
  }
  const messages: { body: DispatchMessage }[] = [];
  for (let i = 0; i < unique.length; i += NODES_PER_MESSAGE)
    messages.push({ body: { node_ids: unique.slice(i, i + NODES_PER_MESSAGE) } });
  // sendBatch takes at most 100 messages per call.
  for (let i = 0; i < messages.length; i += 100)
    await env.DISPATCH_QUEUE.sendBatch(messages.slice(i, i + 100));
  return "queue";
}

/**
 * The queue consumer: delivers the nodes of every message in the batch at once (one message after
 * another left the machine idle waiting on single Durable Objects); a message whose deliveries all
 * failed is retried, partial failures are left to the cron's re-dispatch.
 */
export async function consumeDispatchBatch(batch: MessageBatch<DispatchMessage>, env: Env): Promise<void> {
  await Promise.all(
    batch.messages.map(async (message) => {
      const result = await deliverToNodes(env, message.body.node_ids);
      if (result.failed > 0 && result.delivered === 0) message.retry();
      else message.ack();
    }),
  );
}
