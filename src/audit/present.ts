import type { AuditRow } from "./chain";
import type { AuditEventResponse } from "./schema";

/** An audit event as the API and the export show it (millisecond timestamps: order matters here). */
export function presentAuditEvent(row: AuditRow): AuditEventResponse {
  return {
    id: row.id,
    seq: row.seq,
    occurred_at: new Date(row.occurredAt).toISOString(),
    event: row.event,
    actor_type: row.actorType,
    actor_id: row.actorId,
    actor_name: row.actorName,
    ip: row.ip,
    user_agent: row.userAgent,
    method: row.method,
    path: row.path,
    request_id: row.requestId,
    status_code: row.statusCode,
    success: row.success,
    resource_type: row.resourceType,
    resource_id: row.resourceId,
    details: row.details === null ? null : (JSON.parse(row.details) as Record<string, unknown>),
    prev_hash: row.prevHash,
    hash: row.hash,
    signature: row.signature,
  };
}

const CSV_COLUMNS = [
  "id",
  "seq",
  "occurred_at",
  "event",
  "actor_type",
  "actor_id",
  "actor_name",
  "ip",
  "user_agent",
  "method",
  "path",
  "request_id",
  "status_code",
  "success",
  "resource_type",
  "resource_id",
  "details",
  "prev_hash",
  "hash",
  "signature",
] as const satisfies readonly (keyof AuditEventResponse)[];

function csvCell(value: unknown): string {
  if (value === null || value === undefined) return "";
  const text = typeof value === "object" ? JSON.stringify(value) : String(value);
  // Quote every field that could split a row, and defuse spreadsheet formulas.
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return /[",\r\n']/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** Audit events as JSON Lines (one event per line) or CSV with a header row. */
export function exportAuditEvents(rows: AuditRow[], format: "jsonl" | "csv"): string {
  const events = rows.map(presentAuditEvent);
  if (format === "jsonl")
    return events.map((e) => JSON.stringify(e)).join("\n") + (events.length ? "\n" : "");
  const lines = [
    CSV_COLUMNS.join(","),
    ...events.map((e) => CSV_COLUMNS.map((k) => csvCell(e[k])).join(",")),
  ];
  return `${lines.join("\r\n")}\r\n`;
}
