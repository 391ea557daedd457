import { LAST_SEEN_WRITE_INTERVAL_MS } from "../../durable-objects/node-session/presence";
import { type Env, loadConfig } from "../../src/config";
import { createDatabase } from "../../src/db/client";
import { markStaleNodesUnreachable } from "../../src/nodes/status";
import type { CronJob } from "./types";

/** Longest heartbeat interval the cron assumes when it can't ask the node's session. */
const ASSUMED_MAX_HEARTBEAT_MS = 60_000;

/**
 * Safety net behind each NodeSession's alarm: a node whose `last_seen_at` is
 * older than the throttle window plus the stale window (at a generous
 * heartbeat interval) is marked `unreachable`.
 */
export const staleNodesJob: CronJob = {
  name: "stale_nodes",
  async run(env: Env) {
    const config = loadConfig(env);
    const db = createDatabase({ url: config.libsqlUrl, authToken: config.libsqlAuthToken });
    const cutoff =
      Date.now() - LAST_SEEN_WRITE_INTERVAL_MS - config.heartbeatStaleFactor * ASSUMED_MAX_HEARTBEAT_MS;
    return { marked_unreachable: await markStaleNodesUnreachable(db, cutoff) };
  },
};
