import { sql } from "drizzle-orm";
import { type Env, loadConfig } from "../../src/config";
import { createDatabase } from "../../src/db/client";
import { commandExecutions, nodes } from "../../src/db/schema";
import { expireDue, pruneTerminal } from "../../src/executions/lifecycle";
import { advanceRunningRollouts } from "../services/advance-rollout";
import { deliverToNodes } from "../services/dispatch";
import { nodeSession } from "../services/node-sessions";
import type { CronJob } from "./types";

/** A `pending` row older than this on a connected node means its delivery was lost. */
const REDISPATCH_AFTER_MS = 30_000;
/**
 * A `sent` row unfinished this long is sent again: a delivery whose object died between claiming a
 * row and sending it leaves the row `sent` but unseen. An agent already running it only acks.
 */
const RESEND_SENT_AFTER_MS = 5 * 60_000;
const REDISPATCH_NODE_LIMIT = 500;

function database(env: Env) {
  const config = loadConfig(env);
  return createDatabase({ url: config.libsqlUrl, authToken: config.libsqlAuthToken });
}

/** Expires live executions past `expired_at`; agents still running one are told to stop it. */
export const expireExecutionsJob: CronJob = {
  name: "expire_executions",
  async run(env) {
    const result = await expireDue(database(env));
    await Promise.allSettled(
      result.sent.map(async (row) =>
        nodeSession(env, row.nodeId).sendFrame({ type: "cancel", execution_id: row.id }),
      ),
    );
    return { expired: result.expired, stopped: result.sent.length };
  },
};

/**
 * The safety net for lost deliveries: nodes that look connected but still have old `pending` rows, or
 * `sent` rows unfinished for long, get a delivery round that re-sends both.
 */
export const redispatchJob: CronJob = {
  name: "redispatch_pending",
  async run(env) {
    const now = Date.now();
    const rows = await database(env).all<{ node_id: string }>(sql`
      SELECT DISTINCT e.node_id FROM ${commandExecutions} e JOIN ${nodes} n ON n.id = e.node_id
       WHERE ((e.status = 'pending' AND e.held = 0 AND e.inserted_at < ${now - REDISPATCH_AFTER_MS})
           OR (e.status = 'sent' AND e.sent_at < ${now - RESEND_SENT_AFTER_MS}))
         AND n.status != 'unreachable'
       LIMIT ${REDISPATCH_NODE_LIMIT}`);
    return deliverToNodes(
      env,
      rows.map((r) => r.node_id),
      { resend: true },
    );
  },
};

/** Deletes finished executions past the retention window, each with `edge.command_execution.pruned`. */
export const pruneExecutionsJob: CronJob = {
  name: "prune_executions",
  async run(env) {
    const days = loadConfig(env).executionRetentionDays;
    return { pruned: await pruneTerminal(database(env), Date.now() - days * 86_400_000) };
  },
};

/** Moves running rollouts on: the safety net behind the sessions, which advance one per result. */
export const advanceRolloutsJob: CronJob = {
  name: "advance_rollouts",
  run: (env) => advanceRunningRollouts(env, database(env)),
};
