import { eq } from "drizzle-orm";
import * as v from "valibot";
import type { Database } from "../db/client";
import { clusters, nodes } from "../db/schema";
import type { ListQuery } from "../list-query/engine";
import type { MetricsHistoryResponse } from "../metrics-history/schema";
import { isoOrNull } from "../time";
import type { SystemMetricsResponse } from "./system-schema";

/** `format` of the metrics exports. */
export const MetricsExportFormat = v.optional(v.picklist(["csv", "json"], "must be csv or json"), "json");

/** Most nodes one fleet export carries (narrow it with the node list's filters). */
export const FLEET_EXPORT_LIMIT = 10_000;

function csvCell(value: unknown): string {
  if (value === null || value === undefined) return "";
  const text = typeof value === "object" ? JSON.stringify(value) : String(value);
  // Quote every field that could split a row, and defuse spreadsheet formulas.
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return /[",\r\n']/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** Rows as CSV with a header row (CRLF, as RFC 4180). */
export function toCsv(columns: readonly string[], rows: Record<string, unknown>[]): string {
  const lines = [columns.join(","), ...rows.map((r) => columns.map((c) => csvCell(r[c])).join(","))];
  return `${lines.join("\r\n")}\r\n`;
}

const FLEET_COLUMNS = [
  "node_id",
  "node_name",
  "cluster_name",
  "status",
  "cpu_usage_percent",
  "memory_usage_percent",
  "disk_usage_percent",
  "load_1m",
  "collected_at",
] as const;

/**
 * The latest metrics of the nodes matching the node list's filters, in its order (at most
 * `FLEET_EXPORT_LIMIT`), from the columns each session refreshes once a minute.
 */
export async function fleetLatestMetrics(db: Database, q: ListQuery) {
  const rows = await db
    .select({
      node_id: nodes.id,
      node_name: nodes.nodeName,
      cluster_name: clusters.name,
      status: nodes.status,
      cpu_usage_percent: nodes.cpuUsagePercent,
      memory_usage_percent: nodes.memoryUsagePercent,
      disk_usage_percent: nodes.diskUsagePercent,
      load_1m: nodes.load1m,
      metrics_at: nodes.metricsAt,
    })
    .from(nodes)
    .innerJoin(clusters, eq(clusters.id, nodes.clusterId))
    .where(q.where)
    .orderBy(...q.orderBy)
    .limit(FLEET_EXPORT_LIMIT);
  return rows.map(({ metrics_at, ...r }) => ({ ...r, collected_at: isoOrNull(metrics_at) }));
}

/** The fleet export's body in `format`. */
export function fleetExport(
  rows: Awaited<ReturnType<typeof fleetLatestMetrics>>,
  format: "csv" | "json",
): string {
  return format === "csv" ? toCsv(FLEET_COLUMNS, rows) : JSON.stringify({ nodes: rows });
}

/** One node's latest snapshot as one CSV row (the headline values), or the `/metrics/system` JSON. */
export function snapshotExport(s: SystemMetricsResponse, format: "csv" | "json"): string {
  if (format === "json") return JSON.stringify(s);
  const row = {
    node_id: s.node_id,
    timestamp: s.collected_at,
    cpu_usage_percent: s.cpu.usage_percent,
    load_1m: s.cpu.load_1m,
    load_5m: s.cpu.load_5m,
    load_15m: s.cpu.load_15m,
    memory_usage_percent: s.memory.usage_percent,
    memory_used_bytes: s.memory.used_bytes,
    memory_total_bytes: s.memory.total_bytes,
    swap_used_bytes: s.swap.available ? s.swap.used_bytes : null,
    swap_total_bytes: s.swap.available ? s.swap.total_bytes : null,
    disk_usage_percent: s.disk.usage_percent,
    disk_used_bytes: s.disk.used_bytes,
    disk_total_bytes: s.disk.total_bytes,
    uptime_seconds: s.uptime_seconds,
  };
  return toCsv(Object.keys(row), [row]);
}

/** A node's history: one CSV row per point (`<series>_avg|min|max` columns), or the history JSON. */
export function historyExport(
  h: MetricsHistoryResponse,
  series: readonly string[],
  format: "csv" | "json",
): string {
  if (format === "json") return JSON.stringify(h);
  const columns = ["timestamp", ...series.flatMap((s) => [`${s}_avg`, `${s}_min`, `${s}_max`])];
  const rows = h.points.map((p) => {
    const row: Record<string, unknown> = { timestamp: p.timestamp };
    for (const s of series) {
      const stat = (p as Record<string, unknown>)[s] as { avg: number; min: number; max: number } | undefined;
      if (stat)
        Object.assign(row, { [`${s}_avg`]: stat.avg, [`${s}_min`]: stat.min, [`${s}_max`]: stat.max });
    }
    return row;
  });
  return toCsv(columns, rows);
}
