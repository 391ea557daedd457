// Response schemas of `/api/v1/admins/*` (the seed's shapes; descriptions say how Outpost fills them).
import * as v from "valibot";
import { DateTimeOutput } from "../schemas/common";
import { UNLIMITED } from "./limits";
import { NOT_APPLICABLE } from "./metrics";

const str = (description: string) => v.pipe(v.string(), v.description(description));
const int = (description: string) => v.pipe(v.number(), v.integer(), v.description(description));
const count = (description: string) => v.pipe(v.number(), v.integer(), v.description(description));

const TopologyEntry = v.object({
  admin_peer_count: int("Admin-mesh peers: always 0 (one admin per deployment)"),
  edge_node_capacity: int(`Edge nodes this admin can own: ${UNLIMITED} means unlimited`),
  erlang_node_name: str("`admin@<public host>`: a stable name only; Outpost runs no Erlang distribution"),
  max_wireguard_peers: int(`No WireGuard peer budget in Outpost: ${UNLIMITED} (unlimited)`),
  name: str("Admin name, `admin-<id>`"),
  netmaker_host_id: str("UUID derived from the same hash as `id` (no Netmaker in Outpost)"),
  vpn_hostname: str("Host of the public origin agents connect to"),
});

/** `GET /admins/me`: this deployment as the seed's admin. */
export const AdminSchema = v.pipe(
  v.object({
    ...TopologyEntry.entries,
    admin_cluster_name: str("Admin cluster name: the host of the public origin"),
    id: str("12 characters derived from SHA-256 of the public origin (PUBLIC_API_URL)"),
    last_computed_at: v.pipe(v.nullable(DateTimeOutput), v.description("Computed per request: now")),
  }),
  v.title("Admin"),
);

/** `GET /admins/my_admin_cluster`: the admin cluster, this deployment alone. */
export const MyAdminClusterSchema = v.pipe(
  v.object({
    degraded: v.pipe(v.boolean(), v.description("True when total_nodes exceeds total_edge_capacity")),
    name: str("Admin cluster name"),
    topology: v.array(TopologyEntry),
    total_admins: int("Always 1"),
    total_edge_capacity: int(`Sum of edge_node_capacity: ${UNLIMITED} (unlimited)`),
    total_nodes: int("Nodes registered across all clusters"),
    weak_leader: str("This admin's name (it is the only one)"),
  }),
  v.title("MyAdminCluster"),
);

/** `GET /admins/admin_clusters`: one admin cluster with one admin. */
export const AdminClustersSchema = v.pipe(
  v.array(
    v.object({
      admin_count: int("Always 1"),
      admins: v.array(
        v.object({
          ipv4_address: v.pipe(v.nullable(v.string()), v.description("null: no admin network")),
          last_checked_in: v.pipe(v.nullable(DateTimeOutput), v.description("When this answer was computed")),
          name: str("Admin name"),
          netmaker_host_id: str("Derived UUID (no Netmaker)"),
          status: v.pipe(
            v.nullable(v.string()),
            v.description("`online`: the Worker and its database answer"),
          ),
          use_static_port: v.pipe(v.boolean(), v.description("false: no WireGuard")),
          vpn_hostname: str("Host of the public origin"),
          wireguard_ip_address: v.pipe(v.nullable(v.string()), v.description("null: no WireGuard")),
          wireguard_port: v.pipe(v.nullable(v.number()), v.description("null: no WireGuard")),
        }),
      ),
      ipv4_range: str("CLUSTER_IPV4_POOL, the pool edge cluster ranges are carved from"),
      name: str("Admin cluster name"),
    }),
  ),
  v.title("AdminClusters"),
);

/** `{cluster name: [node ids]}` (edge and orphaned cluster assignments). */
export const NodeIdsByCluster = v.record(v.string(), v.array(v.string()));

const section = (description: string, entries: v.ObjectEntries) =>
  v.pipe(v.object(entries), v.description(description));

const QueueSchema = v.object({
  queue: str("`command_executions`, `webhook_deliveries` or `self_update_requests`"),
  available: count("Ready to run (pending executions; pending deliveries due now; pending requests)"),
  scheduled: count("Waiting for a later time (deliveries awaiting their retry time)"),
  executing: count("In progress (sent executions; processing requests)"),
  retryable: count("Pending deliveries that already failed at least once"),
  completed: count("Completed (executions, succeeded deliveries, requests)"),
  cancelled: count("Cancelled executions"),
  discarded: count("Gave up (expired executions, failed deliveries)"),
});

// Seed sections about parts Outpost does not have (NOT_APPLICABLE): present, every field null.
const notApplicableSchemas = Object.fromEntries(
  Object.entries(NOT_APPLICABLE).map(([name, { description, keys }]) => [
    name,
    section(
      `Not applicable to Outpost (${description}): every field is null`,
      Object.fromEntries(keys.map((k) => [k, v.null()])),
    ),
  ]),
);

/** `GET /admins/me/metrics`: fleet counts in the seed's metric sections. */
export const MetricsSchema = v.pipe(
  v.object({
    ...notApplicableSchemas,
    commands: section("Command executions currently stored (finished ones are pruned after retention)", {
      delivery_delivered_count: v.pipe(v.null(), v.description("No delivery batch runs")),
      delivery_total: v.pipe(v.null(), v.description("No delivery batch runs")),
      execution_completed_total: count("Executions completed"),
      execution_delivered_total: count("Executions handed to their agent (sent_at set)"),
      expiration_total: count("Executions expired"),
      executions_by_status: v.pipe(
        v.record(v.string(), v.number()),
        v.description("Outpost extension: executions per status (every status present)"),
      ),
    }),
    database: section("Outpost extension: the libSQL database", {
      latency_ms: count("Round trip of `SELECT 1`, milliseconds"),
    }),
    event_broker: section("No message broker: disabled, counters 0", {
      enabled: v.boolean(),
      enqueues_total: count("0"),
      publishes_error_total: count("0"),
      publishes_ok_total: count("0"),
      publishes_total: count("0"),
    }),
    events: section("Outpost extension: the event outbox", {
      total: count("Events stored"),
      backlog: count("Events not yet fanned out to webhooks"),
    }),
    metadata: section("Cluster assignment", {
      assigned_clusters: count("Clusters assigned to this admin (all of them)"),
      degraded: v.boolean(),
      orphaned_clusters: count("Always 0 (unlimited capacity)"),
      recomputations_total: v.pipe(v.null(), v.description("Computed per request")),
    }),
    nodes: section("Nodes", {
      health_checks_total: v.pipe(v.null(), v.description("Heartbeats are counted per node, not fleet-wide")),
      total: count("Outpost extension: nodes registered"),
      by_status: v.pipe(
        v.object({ healthy: v.number(), unhealthy: v.number(), unreachable: v.number() }),
        v.description("Outpost extension: nodes per status"),
      ),
    }),
    oban_queues: v.pipe(
      v.array(QueueSchema),
      v.description("Outpost's durable work tables, in Oban's terms"),
    ),
    self_updates: section("Self-update requests", {
      completed_total: count("Requests completed"),
      pending: count("Outpost extension: requests pending"),
      processing: count("Outpost extension: requests processing"),
    }),
    timestamp: DateTimeOutput,
    webhook: section("Webhook deliveries (attempts recorded in webhook_delivery_attempts)", {
      deliveries_ok_total: count("Attempts answered 2xx"),
      deliveries_recoverable_total: count("Failed attempts that were (or will be) retried"),
      deliveries_terminal_total: count("Deliveries given up (`failed`)"),
      deliveries_total: count("All attempts"),
      fan_outs_total: count("Events fanned out to webhooks"),
    }),
  }),
  v.title("AdminMetrics"),
);
