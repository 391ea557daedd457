import type { SettledExecution } from "../../durable-objects/node-session/waiters";
import type { WaitedExecution } from "../../src/commands/schema";
import type { Env } from "../../src/config";
import type { ClaimedExecution } from "../../src/executions/lifecycle";
import { createLogger } from "../../src/log";
import { isoOrNull } from "../../src/time";
import { nodeSession } from "./node-sessions";

const log = createLogger({ fields: { service: "session-wait" } });

/**
 * Up to this many nodes a synchronous command waits in the nodes' sessions for its results (one
 * RPC per node, held open for the wait, doing the push the fan-out would do anyway); a larger one
 * waits by reading libSQL (`await-command.ts`).
 */
export const SESSION_WAIT_UP_TO = 20;

/** What a synchronous command's sessions are asked for: each node's claimed rows and this command's execution on it. */
export interface SessionWaitPlan {
  claimed: Map<string, ClaimedExecution[]>;
  /** This command's execution id per node. */
  executionIds: Map<string, string>;
  hostnames: Map<string, string>;
}

/**
 * Whether every execution of the command can be waited for in its node's session: the command is
 * small, and each of its executions was claimed in the creating batch (its node connected), so the
 * session that pushes it sees its result come in.
 */
export function canWaitInSessions(plan: SessionWaitPlan): boolean {
  if (plan.executionIds.size === 0 || plan.executionIds.size > SESSION_WAIT_UP_TO) return false;
  for (const [nodeId, executionId] of plan.executionIds)
    if (!plan.claimed.get(nodeId)?.some((row) => row.id === executionId)) return false;
  return true;
}

/**
 * Pushes each node's claimed rows through its session and waits there (at most `waitMs`) for this
 * command's results, as written to libSQL. Resolves with every execution in the order the API lists
 * them (by id: one command's rows share their insert time), or null as soon as one of them cannot be
 * answered so (no result in time, ended another way, session unreachable or restarted): the caller
 * then reads libSQL, which has everything the sessions answered.
 */
export function pushAndAwaitInSessions(
  env: Env,
  plan: SessionWaitPlan,
  waitMs: number,
): Promise<WaitedExecution[] | null> {
  return new Promise((resolve) => {
    const answers: WaitedExecution[] = [];
    let left = plan.executionIds.size;
    for (const [nodeId, executionId] of plan.executionIds) {
      const rows = plan.claimed.get(nodeId) ?? [];
      const hostname = plan.hostnames.get(nodeId) ?? null;
      nodeSession(env, nodeId)
        .pushAndAwait(rows, [executionId], waitMs)
        .then(([settled]) => {
          if (!settled) return resolve(null);
          answers.push(present(nodeId, hostname, settled));
          if (--left === 0) resolve(answers.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)));
        })
        .catch((error) => {
          // The rows are `sent`: the agent gets them with its next hello, or the cron re-sends them.
          log.warn("waiting in the node's session failed; reading libSQL instead", {
            node_id: nodeId,
            error,
          });
          resolve(null);
        });
    }
  });
}

function present(nodeId: string, hostname: string | null, s: SettledExecution): WaitedExecution {
  return {
    id: s.id,
    node_id: nodeId,
    hostname,
    status: s.status,
    exit_code: s.exit_code,
    output: s.output,
    started_at: isoOrNull(s.started_at),
    duration_ms: s.duration_ms,
  };
}
