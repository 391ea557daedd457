import type { Principal } from "../../src/access/principal";
import type { Env } from "../../src/config";
import type { Database } from "../../src/db/client";
import { ApiError } from "../../src/errors";
import { createLogger } from "../../src/log";
import { getNode } from "../../src/nodes/store";
import { CHILD_NAME } from "../../src/protocol/inventory-sections";
import { presentRebootOrchestration } from "../../src/reboot-orchestrations/present";
import type {
  RebootOrchestrationInput,
  RebootOrchestrationResponse,
  RebootPrecheckResponse,
  RestartChild,
  SnapshotChild,
} from "../../src/reboot-orchestrations/schema";
import {
  activeOrchestrations,
  cancelRebootOrchestration,
  getRebootOrchestration,
  insertRebootOrchestration,
  reportedChildren,
} from "../../src/reboot-orchestrations/store";
import { isoOrNull } from "../../src/time";
import { nodeSession } from "./node-sessions";

const log = createLogger({ fields: { service: "reboot-orchestration" } });

/** Seed 000's pre-check, from the node's `children` inventory section. 404 for an unknown node. */
export async function rebootPrecheck(db: Database, nodeId: string): Promise<RebootPrecheckResponse> {
  await getNode(db, nodeId);
  const reported = await reportedChildren(db, nodeId);
  const running = reported.children.filter((c) => c.status === "running");
  return {
    has_running_children: running.length > 0,
    running_children: running.map((c) => ({
      id: c.id,
      child_name: c.child_name,
      child_type: c.child_type,
      status: c.status,
    })),
    running_count: running.length,
    total_children: reported.children.length,
    has_container_engine: reported.engines.length > 0,
    reported_at: isoOrNull(reported.collectedAt),
  };
}

/** Asks the parent's session to drive the orchestration; the cron asks again if this is lost. */
async function drive(env: Env, nodeId: string, id: string): Promise<void> {
  try {
    await nodeSession(env, nodeId).orchestrate(id);
  } catch (error) {
    log.warn("could not reach the parent's session; the cron will drive it", { orchestration_id: id, error });
  }
}

/**
 * Starts an orchestrated reboot (C10): snapshots the children running now (from the node's
 * inventory) and hands it to the parent's session. 400 when the node's agent is not connected or
 * nothing runs on it (as seed 000 says), or a running child has a name the engines' CLIs cannot be
 * given safely; 409 when the node already has one in flight.
 */
export async function startRebootOrchestration(
  env: Env,
  db: Database,
  nodeId: string,
  body: RebootOrchestrationInput,
  principal: Principal,
): Promise<RebootOrchestrationResponse> {
  const node = await getNode(db, nodeId);
  if (node.status === "unreachable")
    throw new ApiError("bad_request", "The node is not active: its agent is not connected", {
      node_status: [node.status],
    });
  const running = (await reportedChildren(db, nodeId)).children.filter((c) => c.status === "running");
  if (running.length === 0)
    throw new ApiError("bad_request", "No running child hosts found on the node", {
      node_id: ["has no running child hosts (see GET /api/v1/nodes/{node_id}/reboot_precheck)"],
    });
  const unsafe = running.filter((c) => !CHILD_NAME.test(c.child_name));
  if (unsafe.length > 0)
    throw new ApiError("bad_request", "Some running children have names the orchestration cannot pass on", {
      child_names: unsafe.map((c) => `${c.child_name}: must match ${CHILD_NAME.source}`),
    });
  const snapshot: SnapshotChild[] = running.map((c) => ({
    id: c.id,
    child_name: c.child_name,
    child_type: c.child_type,
    pre_reboot_status: c.status,
  }));
  const restart: RestartChild[] = running.map((c) => ({
    id: c.id,
    child_name: c.child_name,
    restart_status: "pending",
    error: null,
  }));
  const id = crypto.randomUUID();
  const now = Date.now();
  await insertRebootOrchestration(db, {
    id,
    nodeId,
    status: "pending",
    childHostsSnapshot: JSON.stringify(snapshot),
    childHostsRestartStatus: JSON.stringify(restart),
    shutdownTimeoutSeconds: body.shutdown_timeout_seconds,
    forceStopOnTimeout: body.force_stop_on_timeout,
    initiatedBy: principal.name,
    initiatedAt: now,
    updatedAt: now,
  });
  await drive(env, nodeId, id);
  return presentRebootOrchestration(await getRebootOrchestration(db, id));
}

/** Cancels before the reboot is issued (409 after); children already stopped are started again. */
export async function cancelOrchestration(
  env: Env,
  db: Database,
  id: string,
): Promise<RebootOrchestrationResponse> {
  const row = await cancelRebootOrchestration(db, id);
  if (row.nodeId && row.stopCommandId) await drive(env, row.nodeId, id);
  return presentRebootOrchestration(row);
}

/** The cron's safety net: every orchestration still to drive is handed to its parent's session again. */
export async function resumeOrchestrations(env: Env, db: Database): Promise<number> {
  const active = await activeOrchestrations(db, 100);
  await Promise.all(active.map((o) => drive(env, o.nodeId, o.id)));
  return active.length;
}
