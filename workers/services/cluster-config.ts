import type { DispatchMessage, Env } from "../../src/config";
import { createLogger } from "../../src/log";
import { nodeSession } from "./node-sessions";

/** Sessions told at once; a cluster's nodes are told in waves of this many. */
const WAVE = 20;
/**
 * Up to this many nodes are told from the request itself (its own subrequests); a bigger cluster
 * goes through the dispatch queue in messages of `NODES_PER_CONFIG_MESSAGE`, so no invocation comes
 * near the Worker's subrequest limit (1,000) however large the cluster.
 */
export const DIRECT_CONFIG_PUSH_LIMIT = 200;
export const NODES_PER_CONFIG_MESSAGE = 100;
const log = createLogger({ fields: { service: "cluster-config" } });

/**
 * A cluster's settings changed: every connected agent in it gets its new `config` (the detail
 * interval) now, not at its next reconnect. Best effort per node; an agent that misses it learns
 * with its next hello.
 */
export async function pushClusterConfig(env: Env, nodeIds: string[]): Promise<number> {
  let told = 0;
  for (let i = 0; i < nodeIds.length; i += WAVE) {
    const wave = nodeIds.slice(i, i + WAVE);
    const sent = await Promise.all(
      wave.map((id) =>
        nodeSession(env, id)
          .refreshConfig()
          .catch((error: unknown) => {
            log.warn("config push failed", { node_id: id, error });
            return false;
          }),
      ),
    );
    told += sent.filter(Boolean).length;
  }
  return told;
}

/**
 * Pushes the new `config` to a cluster's reachable nodes: from this request when they are few (or
 * without a queue), else as dispatch-queue messages the consumer handles like execution fan-out.
 */
export async function scheduleClusterConfigPush(
  env: Env,
  ctx: { waitUntil(promise: Promise<unknown>): void },
  nodeIds: string[],
): Promise<"direct" | "queue"> {
  const queue = env.DISPATCH_QUEUE;
  if (!queue || nodeIds.length <= DIRECT_CONFIG_PUSH_LIMIT) {
    ctx.waitUntil(pushClusterConfig(env, nodeIds));
    return "direct";
  }
  const messages: { body: DispatchMessage }[] = [];
  for (let i = 0; i < nodeIds.length; i += NODES_PER_CONFIG_MESSAGE)
    messages.push({ body: { kind: "config", node_ids: nodeIds.slice(i, i + NODES_PER_CONFIG_MESSAGE) } });
  // sendBatch takes at most 100 messages per call.
  for (let i = 0; i < messages.length; i += 100) await queue.sendBatch(messages.slice(i, i + 100));
  return "queue";
}
