import { isoOrNull, isoSeconds } from "../time";
import type { RebootOrchestrationResponse, RestartChild, SnapshotChild } from "./schema";
import type { RebootOrchestrationRow } from "./store";

/** Renders a reboot orchestration row. */
export function presentRebootOrchestration(row: RebootOrchestrationRow): RebootOrchestrationResponse {
  const snapshot = JSON.parse(row.childHostsSnapshot) as SnapshotChild[];
  return {
    id: row.id,
    node_id: row.nodeId,
    status: row.status,
    child_count: snapshot.length,
    child_hosts_snapshot: snapshot,
    child_hosts_restart_status: JSON.parse(row.childHostsRestartStatus) as RestartChild[],
    shutdown_timeout_seconds: row.shutdownTimeoutSeconds,
    force_stop_on_timeout: row.forceStopOnTimeout,
    initiated_by: row.initiatedBy,
    initiated_at: isoSeconds(row.initiatedAt),
    shutdown_completed_at: isoOrNull(row.shutdownCompletedAt),
    reboot_issued_at: isoOrNull(row.rebootIssuedAt),
    agent_reconnected_at: isoOrNull(row.agentReconnectedAt),
    restart_completed_at: isoOrNull(row.restartCompletedAt),
    error_message: row.errorMessage,
    stop_command_id: row.stopCommandId,
    power_action_id: row.powerActionId,
    start_command_id: row.startCommandId,
    updated_at: isoSeconds(row.updatedAt),
  };
}
