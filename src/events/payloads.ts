import * as v from "valibot";
import type { EventType } from "./catalog";

// The `data` of each event type, as its producers write it (grep `recordEvent(` /
// `recordEventWhere(`). Objects are loose: receivers must ignore fields they don't
// know, so a producer may add one without breaking anybody. No secret is ever part of an event.

const id = (what: string) => v.pipe(v.string(), v.uuid(), v.description(what));
const text = (what: string) => v.pipe(v.string(), v.description(what));
const NODE_ID = id("Node ID");
const CLUSTER_NAME = text("Name of the node's cluster");
const NODE_STATUS = v.picklist(["healthy", "unhealthy", "unreachable"]);
const EXECUTION_STATUS = v.picklist(["completed", "cancelled", "expired"]);

const execution = {
  execution_id: id("Command execution ID"),
  command_id: id("Command ID"),
  node_id: v.pipe(v.nullable(v.string()), v.description("Target node ID (null once the node was deleted)")),
  cluster_name: v.pipe(
    v.nullable(v.string()),
    v.description("Cluster name when the command targeted exactly one cluster, else null"),
  ),
};

const registration = {
  node_id: NODE_ID,
  id_type: v.pipe(v.picklist(["persistent", "random"]), v.description("How the agent derived its node ID")),
  cluster_name: CLUSTER_NAME,
  hostname: text("Hostname the agent reported at enrolment"),
  version: text("Agent version at enrolment"),
};

const nodeRegistration = {
  registration_id: id("Node registration ID"),
  node_id: id("Node ID the agent proposed (the node's id once approved)"),
  cluster_name: text("Cluster the node joins when approved"),
  hostname: text("Hostname the agent reported"),
};

const orchestrationPayload = {
  orchestration_id: id("Reboot orchestration ID"),
  node_id: NODE_ID,
  status: text("The orchestration's final status"),
  child_count: v.pipe(v.number(), v.integer(), v.description("Children that were running before")),
  failed_children: v.pipe(v.number(), v.integer(), v.description("Children that could not be started again")),
};

const alertPayload = {
  alert_id: id("Alert ID"),
  rule_id: id("Alert rule ID"),
  node_id: NODE_ID,
  metric: text("Metric the rule watches"),
  level: v.picklist(["warning", "critical"]),
  value: v.pipe(v.number(), v.description("Value of the metric at the transition")),
  threshold: v.pipe(v.number(), v.description("Threshold of the alert's level")),
};

/** Payload (`data`) schema of every event type; `buildAsyncApiDocument` publishes them. */
export const EVENT_PAYLOADS: Record<EventType, v.GenericSchema> = {
  "edge.enrollment_key.verified": v.looseObject({
    enrollment_key_id: id("Enrollment key that was used"),
    cluster_name: text("Cluster the key enrols into"),
    node_id: id("Node that enrolled with it"),
  }),
  "edge.node.registered": v.looseObject(registration),
  "edge.node.reregistered": v.looseObject({
    ...registration,
    previous_cluster_name: v.optional(
      text("Cluster the node was in before, present only when re-registration moved it"),
    ),
  }),
  "edge.node.version_changed": v.looseObject({
    node_id: NODE_ID,
    cluster_name: CLUSTER_NAME,
    from: v.pipe(
      v.nullable(v.string()),
      v.description("Previous agent version (null before the first hello)"),
    ),
    to: text("New agent version"),
  }),
  "edge.node.status_changed": v.looseObject({
    node_id: NODE_ID,
    cluster_name: CLUSTER_NAME,
    from: v.pipe(NODE_STATUS, v.description("Previous status")),
    to: v.pipe(NODE_STATUS, v.description("New status")),
    reason: text("Why the status changed"),
  }),
  "edge.node.cluster_changed": v.looseObject({
    node_id: NODE_ID,
    from: text("Previous cluster name"),
    to: text("New cluster name"),
  }),
  "edge.node.update_triggered": v.looseObject({
    node_id: NODE_ID,
    cluster_name: CLUSTER_NAME,
    from_version: v.pipe(
      v.nullable(v.string()),
      v.description("Agent version before the update (null if unknown)"),
    ),
    to_version: text("Agent version the node was told to install"),
    request_id: id("Self-update request that triggered it"),
  }),
  "edge.node.inventory_changed": v.looseObject({
    node_id: NODE_ID,
    sections: v.pipe(
      v.array(v.string()),
      v.description(
        "Inventory sections whose content changed (read them at /api/v1/nodes/{id}/inventory/{section})",
      ),
    ),
  }),
  "edge.node_registration.requested": v.looseObject({
    ...nodeRegistration,
    enrollment_key_id: id("Enrollment key (with requires_approval) the agent used"),
  }),
  "edge.node_registration.approved": v.looseObject({
    ...nodeRegistration,
    decided_by: text("Principal that approved it"),
  }),
  "edge.node_registration.rejected": v.looseObject({
    ...nodeRegistration,
    decided_by: text("Principal that rejected it"),
  }),
  "edge.node_registration.expired": v.looseObject(nodeRegistration),
  "edge.command_execution.created": v.looseObject({
    ...execution,
    target_all: v.pipe(v.boolean(), v.description("Whether the command targeted every node")),
  }),
  "edge.command_execution.sent": v.looseObject(execution),
  "edge.command_execution.completed": v.looseObject({
    ...execution,
    exit_code: v.pipe(v.number(), v.integer(), v.description("Exit code of the command")),
  }),
  "edge.command_execution.cancelled": v.looseObject({
    ...execution,
    exit_code: v.optional(
      v.pipe(v.number(), v.integer(), v.description("Exit code, when the agent stopped a running command")),
    ),
    reason: v.optional(text("Why it was cancelled, when not by request (e.g. `node deleted`)")),
  }),
  "edge.command_execution.expired": v.looseObject(execution),
  "edge.command_execution.pruned": v.looseObject({
    ...execution,
    status: v.pipe(EXECUTION_STATUS, v.description("Terminal status the execution had")),
  }),
  "edge.ssh_username.verified": v.looseObject({
    node_id: NODE_ID,
    ssh_username_id: id("SSH username ID"),
    username: text("The SSH username"),
    method: v.pipe(v.picklist(["public_key", "password"]), v.description("How the login was verified")),
  }),
  "edge.self_update_request.completed": v.looseObject({
    request_id: id("Self-update request ID"),
    summary: v.pipe(
      v.looseObject({
        total: v.pipe(v.number(), v.integer(), v.description("Nodes targeted")),
        triggered: v.pipe(v.number(), v.integer(), v.description("Nodes told to update")),
        failed: v.pipe(v.number(), v.integer(), v.description("Targeted nodes that could not be told")),
      }),
      v.description("Outcome of the request"),
    ),
  }),
  "edge.alert.fired": v.looseObject(alertPayload),
  "edge.alert.escalated": v.looseObject(alertPayload),
  "edge.alert.resolved": v.looseObject(alertPayload),
  "edge.alert.acknowledged": v.looseObject(alertPayload),
  "edge.process.signalled": v.looseObject({
    node_id: NODE_ID,
    pid: v.pipe(v.number(), v.integer(), v.description("Process ID on the node")),
    signal: text("Signal name as the agent delivered it (`SIGTERM`)"),
    delivered: v.pipe(v.boolean(), v.description("Whether the agent delivered the signal")),
    sent_by: text("Principal that sent it"),
  }),
  "edge.file_transfer.completed": v.looseObject({
    node_id: NODE_ID,
    direction: v.pipe(
      v.picklist(["upload", "download"]),
      v.description("`upload`: to the node; `download`: from the node"),
    ),
    path: text("Absolute path of the file on the node (its directory resolved)"),
    size: v.pipe(v.number(), v.integer(), v.description("Bytes transferred")),
    sha256: text("SHA-256 of the file (hex), computed by the agent"),
  }),
  "edge.reboot_orchestration.completed": v.looseObject(orchestrationPayload),
  "edge.reboot_orchestration.failed": v.looseObject({
    ...orchestrationPayload,
    error_message: text("Why it failed"),
  }),
};

/** Short description of each event type for the AsyncAPI document. */
export const EVENT_SUMMARIES: Record<EventType, string> = {
  "edge.enrollment_key.verified": "An enrollment key was used by a node to enrol.",
  "edge.node.registered": "A new node enrolled.",
  "edge.node.reregistered": "A known node enrolled again (possibly into another cluster).",
  "edge.node.version_changed": "A node's agent reported a different version.",
  "edge.node.status_changed": "A node became healthy, unhealthy or unreachable.",
  "edge.node.cluster_changed": "A node was moved to another cluster.",
  "edge.node.update_triggered": "An agent self-update was triggered on a node.",
  "edge.node.inventory_changed": "A node reported inventory sections whose content changed.",
  "edge.node_registration.requested":
    "An agent enrolled with a key that requires approval: a registration awaits an administrator.",
  "edge.node_registration.approved": "A pending registration was approved: its node was created.",
  "edge.node_registration.rejected": "A pending registration was rejected: its agent stops.",
  "edge.node_registration.expired": "A registration stayed pending for 7 days and expired.",
  "edge.command_execution.created": "A command execution was created for a node.",
  "edge.command_execution.sent": "A command execution was handed to its node's agent.",
  "edge.command_execution.completed": "A command execution finished with an exit code.",
  "edge.command_execution.cancelled": "A command execution was cancelled.",
  "edge.command_execution.expired": "A command execution passed its deadline before finishing.",
  "edge.command_execution.pruned": "A finished command execution was deleted by retention.",
  "edge.ssh_username.verified":
    "A node verified an SSH login (public key or password) for one of its usernames.",
  "edge.self_update_request.completed": "A self-update request finished processing.",
  "edge.alert.fired": "An alert rule's condition held for its for_seconds on a node: an alert started.",
  "edge.alert.escalated": "A firing warning alert crossed its rule's critical threshold.",
  "edge.alert.resolved": "A firing alert's condition cleared (or its rule was removed).",
  "edge.alert.acknowledged": "An operator acknowledged a firing alert.",
  "edge.process.signalled": "An operator sent a signal to a process on a node and the agent delivered it.",
  "edge.file_transfer.completed":
    "A file was uploaded to a node or downloaded from it in full, with matching size and SHA-256.",
  "edge.reboot_orchestration.completed":
    "An orchestrated reboot finished: the parent came back and its children were started again (per-child failures are in the orchestration).",
  "edge.reboot_orchestration.failed":
    "An orchestrated reboot failed (children did not stop, the reboot was not scheduled, or the agent did not come back in time).",
};
