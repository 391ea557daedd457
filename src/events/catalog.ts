/**
 * The event catalog, in the contract's order. Every producer imports its type
 * from here; `GET /api/v1/event_types` and webhook validation read the same list.
 */
export const EVENT_TYPES = [
  "edge.enrollment_key.verified",
  "edge.node.registered",
  "edge.node.reregistered",
  "edge.node.version_changed",
  "edge.node.status_changed",
  "edge.node.cluster_changed",
  "edge.node.update_triggered",
  "edge.node.inventory_changed",
  "edge.node_registration.requested",
  "edge.node_registration.approved",
  "edge.node_registration.rejected",
  "edge.node_registration.expired",
  "edge.command_execution.created",
  "edge.command_execution.sent",
  "edge.command_execution.completed",
  "edge.command_execution.cancelled",
  "edge.command_execution.expired",
  "edge.command_execution.pruned",
  "edge.ssh_username.verified",
  "edge.self_update_request.completed",
  "edge.alert.fired",
  "edge.alert.escalated",
  "edge.alert.resolved",
  "edge.alert.acknowledged",
  "edge.process.signalled",
  "edge.file_transfer.completed",
  "edge.reboot_orchestration.completed",
  "edge.reboot_orchestration.failed",
] as const;

export type EventType = (typeof EVENT_TYPES)[number];
