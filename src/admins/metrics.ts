// The numbers behind `GET /api/v1/admins/me/metrics`: fleet counts from the database, shaped into the
// seed's metric sections (MetricsSchema in ./schema.ts).
import { sql } from "drizzle-orm";
import type { Database } from "../db/client";
import {
  clusters,
  commandExecutions,
  events,
  nodes,
  selfUpdateRequests,
  webhookDeliveries,
  webhookDeliveryAttempts,
} from "../db/schema";
import { UNLIMITED } from "./limits";

/** Seed sections about parts Outpost does not have: present, every field null. */
export const NOT_APPLICABLE: Record<string, { description: string; keys: string[] }> = {
  application: {
    description: "BEAM VM statistics: a Workers isolate has none",
    keys: [
      "atom_count",
      "ets_count",
      "memory_atom_bytes",
      "memory_atom_mb",
      "memory_binary_bytes",
      "memory_binary_mb",
      "memory_code_bytes",
      "memory_code_mb",
      "memory_ets_bytes",
      "memory_ets_mb",
      "memory_processes_bytes",
      "memory_processes_mb",
      "memory_total_bytes",
      "memory_total_mb",
      "port_count",
      "process_count",
      "uptime_human",
      "uptime_seconds",
    ],
  },
  discovery: {
    description: "Peer admin discovery: one admin, none",
    keys: ["dns_resolutions_total", "peer_connections_total", "scans_total"],
  },
  gateways: { description: "No gateways", keys: ["active_count", "connections_total", "scrapes_total"] },
  membership: {
    description: "No admin-cluster membership",
    keys: ["complete_total", "steps_completed_total"],
  },
  proxy: {
    description: "No forward proxy",
    keys: [
      "auth_failures_total",
      "bytes_down_mb",
      "bytes_down_total",
      "bytes_up_mb",
      "bytes_up_total",
      "connections_auth_failed_total",
      "connections_failure_total",
      "connections_success_total",
      "connections_total",
      "tunnels_closed_deadline_total",
      "tunnels_closed_drain_timeout_total",
      "tunnels_closed_normal_total",
      "tunnels_closed_total",
    ],
  },
  quantum: {
    description: "No Quantum scheduler (cron ticks)",
    keys: ["jobs_exceptions_total", "jobs_executed_total"],
  },
  reconciliation: { description: "No Netmaker to reconcile with", keys: ["errors", "total"] },
  ssh: {
    description: "SSH verifications are not counted",
    keys: ["verifications_failed", "verifications_total"],
  },
  vpn: { description: "No VPN", keys: ["zombie_cleanup_deleted_count", "zombie_cleanup_total"] },
};

/** The NOT_APPLICABLE sections as values: `{section: {key: null}}`. */
export const notApplicableValues = Object.fromEntries(
  Object.entries(NOT_APPLICABLE).map(([name, { keys }]) => [
    name,
    Object.fromEntries(keys.map((k) => [k, null])),
  ]),
);

/** Fleet counts in one round trip (scalar subqueries), after timing a `SELECT 1`. */
export async function collectMetrics(db: Database): Promise<Record<string, number>> {
  const began = Date.now();
  await db.run(sql`SELECT 1`);
  const latency = Date.now() - began;
  const now = Date.now();
  const ce = commandExecutions;
  const d = webhookDeliveries;
  const [row] = await db.all<Record<string, number>>(sql`SELECT
    (SELECT count(*) FROM ${nodes}) AS nodes_total,
    (SELECT count(*) FROM ${nodes} WHERE status = 'healthy') AS nodes_healthy,
    (SELECT count(*) FROM ${nodes} WHERE status = 'unhealthy') AS nodes_unhealthy,
    (SELECT count(*) FROM ${nodes} WHERE status = 'unreachable') AS nodes_unreachable,
    (SELECT count(*) FROM ${clusters}) AS clusters_total,
    (SELECT count(*) FROM ${ce} WHERE status = 'pending') AS ex_pending,
    (SELECT count(*) FROM ${ce} WHERE status = 'sent') AS ex_sent,
    (SELECT count(*) FROM ${ce} WHERE status = 'completed') AS ex_completed,
    (SELECT count(*) FROM ${ce} WHERE status = 'cancelled') AS ex_cancelled,
    (SELECT count(*) FROM ${ce} WHERE status = 'expired') AS ex_expired,
    (SELECT count(*) FROM ${ce} WHERE sent_at IS NOT NULL) AS ex_delivered,
    (SELECT count(*) FROM ${events}) AS events_total,
    (SELECT count(*) FROM ${events} WHERE fanned_out_at IS NULL) AS events_backlog,
    (SELECT count(*) FROM ${webhookDeliveryAttempts}) AS attempts_total,
    (SELECT count(*) FROM ${webhookDeliveryAttempts} WHERE status_code BETWEEN 200 AND 299) AS attempts_ok,
    (SELECT count(*) FROM ${d} WHERE status = 'failed') AS deliveries_failed,
    (SELECT count(*) FROM ${d} WHERE status = 'succeeded') AS deliveries_succeeded,
    (SELECT count(*) FROM ${d} WHERE status = 'pending' AND coalesce(next_attempt_at, 0) <= ${now}) AS deliveries_due,
    (SELECT count(*) FROM ${d} WHERE status = 'pending' AND next_attempt_at > ${now}) AS deliveries_scheduled,
    (SELECT count(*) FROM ${d} WHERE status = 'pending' AND attempts > 0) AS deliveries_retryable,
    (SELECT count(*) FROM ${selfUpdateRequests} WHERE status = 'pending') AS su_pending,
    (SELECT count(*) FROM ${selfUpdateRequests} WHERE status = 'processing') AS su_processing,
    (SELECT count(*) FROM ${selfUpdateRequests} WHERE status = 'completed') AS su_completed`);
  const counts: Record<string, number> = { ...row, latency, now };
  return counts;
}

/** The metrics response body (AdminMetrics) from the counts `collectMetrics` returns. */
export function shapeMetrics(m: Record<string, number>) {
  return {
    ...notApplicableValues,
    commands: {
      delivery_delivered_count: null,
      delivery_total: null,
      execution_completed_total: m.ex_completed,
      execution_delivered_total: m.ex_delivered,
      expiration_total: m.ex_expired,
      executions_by_status: {
        pending: m.ex_pending,
        sent: m.ex_sent,
        completed: m.ex_completed,
        cancelled: m.ex_cancelled,
        expired: m.ex_expired,
      },
    },
    database: { latency_ms: m.latency },
    event_broker: {
      enabled: false,
      enqueues_total: 0,
      publishes_error_total: 0,
      publishes_ok_total: 0,
      publishes_total: 0,
    },
    events: { total: m.events_total, backlog: m.events_backlog },
    metadata: {
      assigned_clusters: m.clusters_total,
      degraded: m.nodes_total > UNLIMITED,
      orphaned_clusters: 0,
      recomputations_total: null,
    },
    nodes: {
      health_checks_total: null,
      total: m.nodes_total,
      by_status: {
        healthy: m.nodes_healthy,
        unhealthy: m.nodes_unhealthy,
        unreachable: m.nodes_unreachable,
      },
    },
    oban_queues: [
      {
        queue: "command_executions",
        available: m.ex_pending,
        scheduled: 0,
        executing: m.ex_sent,
        retryable: 0,
        completed: m.ex_completed,
        cancelled: m.ex_cancelled,
        discarded: m.ex_expired,
      },
      {
        queue: "webhook_deliveries",
        available: m.deliveries_due,
        scheduled: m.deliveries_scheduled,
        executing: 0,
        retryable: m.deliveries_retryable,
        completed: m.deliveries_succeeded,
        cancelled: 0,
        discarded: m.deliveries_failed,
      },
      {
        queue: "self_update_requests",
        available: m.su_pending,
        scheduled: 0,
        executing: m.su_processing,
        retryable: 0,
        completed: m.su_completed,
        cancelled: 0,
        discarded: 0,
      },
    ],
    self_updates: { completed_total: m.su_completed, pending: m.su_pending, processing: m.su_processing },
    timestamp: new Date(m.now).toISOString().replace(/\.\d{3}Z$/, "Z"),
    webhook: {
      deliveries_ok_total: m.attempts_ok,
      deliveries_recoverable_total: Math.max(0, m.attempts_total - m.attempts_ok - m.deliveries_failed),
      deliveries_terminal_total: m.deliveries_failed,
      deliveries_total: m.attempts_total,
      fan_outs_total: m.events_total - m.events_backlog,
    },
  };
}
