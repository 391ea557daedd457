import type { Env } from "../../src/config";
import { createLogger } from "../../src/log";
import { nodeSession } from "./node-sessions";

/** Sessions told at once; a cluster's nodes are told in waves of this many. */
const WAVE = 20;
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
