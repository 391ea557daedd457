import { eq } from "drizzle-orm";
import type { Env } from "../../src/config";
import type { Database } from "../../src/db/client";
import { commandExecutions as ce } from "../../src/db/schema";
import { ApiError } from "../../src/errors";
import type { NodeActionResponse } from "../../src/node-actions/schema";
import { getNode } from "../../src/nodes/store";
import { isoOrNull } from "../../src/time";
import { launchCommand } from "./launch-command";

/** A typed action on one node, as a route describes it. */
export interface NodeAction {
  kind: NodeActionResponse["kind"];
  action: string;
  target: string | null;
  commandText: string;
  timeoutMs?: number;
  /** When the machine goes down (power actions). */
  scheduledAt?: number;
  expiredAt?: number;
  /** Refuse (503) when the node is not connected, rather than queue the action for its return. */
  requireOnline: boolean;
}

/**
 * Runs a typed action (C9, C23) on one node as an ordinary command: its execution, the agent's
 * journal, events, cancel and expiry are the command machinery's, so nothing runs twice. 404 for
 * an unknown node, 403 outside a scoped token's clusters, 503 when `requireOnline` and the node is
 * unreachable.
 */
export async function launchNodeAction(
  env: Env,
  ctx: { waitUntil(promise: Promise<unknown>): void },
  db: Database,
  nodeId: string,
  action: NodeAction,
  clusterScope: readonly string[] | null,
): Promise<NodeActionResponse> {
  const node = await getNode(db, nodeId);
  // The same 503 as a live inventory refresh: its status and last contact say why (pass queue: true
  // to a power action to deliver it when the node returns).
  if (action.requireOnline && node.status === "unreachable")
    throw new ApiError("service_unavailable", "The node's agent is not connected", {
      node_status: [node.status],
      last_seen_at: [isoOrNull(node.lastSeenAt) ?? "never"],
    });
  const { command } = await launchCommand(
    env,
    ctx,
    db,
    {
      command_text: action.commandText,
      targeting: { type: "nodes", node_ids: [node.id] },
      timeout: action.timeoutMs ?? null,
      expired_at: action.expiredAt ?? null,
    },
    clusterScope,
  );
  const [execution] = await db
    .select({ id: ce.id, status: ce.status })
    .from(ce)
    .where(eq(ce.commandId, command.id))
    .limit(1);
  if (!execution) throw new ApiError("conflict", "The node was deleted while the action was created");
  return {
    kind: action.kind,
    action: action.action,
    target: action.target,
    node_id: node.id,
    command_id: command.id,
    execution_id: execution.id,
    status: execution.status,
    scheduled_at: isoOrNull(action.scheduledAt ?? null),
    expired_at: isoOrNull(command.expiredAt),
  };
}
