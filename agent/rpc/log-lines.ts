import { LOG_LEVELS, type LogEntry, type LogFilter, type LogLevel } from "../../src/protocol/reach-methods";

// Turning one raw log line (a file's or journald's JSON) into an entry, and the filters both a query
// and a tail apply in the agent.

const RFC3339 = /^(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?)/;
const SYSLOG = /^([A-Z][a-z]{2}) +(\d{1,2}) (\d{2}:\d{2}:\d{2})/;
const LEVEL = /\b(emerg(?:ency)?|alert|crit(?:ical)?|fatal|err(?:or)?|warn(?:ing)?|notice|info|debug)\b/i;
const ALIASES: Record<string, LogLevel> = {
  emergency: "emerg",
  critical: "crit",
  fatal: "crit",
  error: "err",
  warn: "warning",
};
const MAX_MESSAGE = 16 * 1024;

/** A file line's timestamp (epoch ms): RFC 3339, or syslog's `Mmm dd hh:mm:ss` (no year: this one, or last). */
export function lineTimestamp(line: string, now = Date.now()): number | null {
  const iso = RFC3339.exec(line);
  if (iso) {
    const t = Date.parse(iso[1].replace(" ", "T").replace(",", "."));
    if (!Number.isNaN(t)) return t;
  }
  const sys = SYSLOG.exec(line);
  if (sys) {
    const year = new Date(now).getUTCFullYear();
    let t = Date.parse(`${sys[1]} ${sys[2]} ${year} ${sys[3]}`);
    if (t > now + 86_400_000) t = Date.parse(`${sys[1]} ${sys[2]} ${year - 1} ${sys[3]}`);
    if (!Number.isNaN(t)) return t;
  }
  return null;
}

/** The level a line names (`ERROR`, `warn`, …), canonical, or null. */
export function lineLevel(line: string): LogLevel | null {
  const m = LEVEL.exec(line);
  if (!m) return null;
  const word = m[1].toLowerCase();
  if ((LOG_LEVELS as readonly string[]).includes(word)) return word as LogLevel;
  return ALIASES[word] ?? null;
}

/** One file line as an entry; `id` is the offset just past it (where a tail resumes). */
export function fileEntry(path: string, line: string, endOffset: number, fallbackTime: number): LogEntry {
  return {
    id: String(endOffset),
    timestamp: new Date(lineTimestamp(line) ?? fallbackTime).toISOString(),
    source: "file",
    source_name: path,
    level: lineLevel(line),
    message: line.slice(0, MAX_MESSAGE),
    fields: {},
  };
}

/** journald's MESSAGE is a byte array when it is not UTF-8. */
function text(value: unknown): string {
  if (typeof value === "string") return value;
  if (Array.isArray(value)) return Buffer.from(value as number[]).toString("utf8");
  return value === undefined || value === null ? "" : String(value);
}

/** One `journalctl -o json` line as an entry (null when it is not JSON). */
export function journalEntry(line: string): LogEntry | null {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line);
  } catch {
    return null;
  }
  const priority = Number(record.PRIORITY);
  const fields: Record<string, unknown> = {};
  for (const [from, to] of [
    ["_PID", "pid"],
    ["SYSLOG_IDENTIFIER", "identifier"],
    ["_SYSTEMD_UNIT", "unit"],
    ["_COMM", "comm"],
  ] as const)
    if (record[from] !== undefined) fields[to] = text(record[from]);
  const unit = text(record._SYSTEMD_UNIT ?? record.SYSLOG_IDENTIFIER);
  return {
    id: text(record.__CURSOR),
    timestamp: new Date(Number(record.__REALTIME_TIMESTAMP) / 1000 || Date.now()).toISOString(),
    source: "journal",
    source_name: unit,
    level: LOG_LEVELS[priority] ?? null,
    message: text(record.MESSAGE).slice(0, MAX_MESSAGE),
    fields,
  };
}

/** Whether an entry passes the level set and the case-insensitive substring `q`. */
export function matches(entry: LogEntry, filter: LogFilter): boolean {
  if (filter.levels && filter.levels.length > 0 && (!entry.level || !filter.levels.includes(entry.level)))
    return false;
  if (filter.q && !entry.message.toLowerCase().includes(filter.q.toLowerCase())) return false;
  return true;
}
