import * as v from "valibot";
import { LOG_LEVELS, type LogLevel } from "../protocol/reach-methods";
import { DateTimeInput } from "../schemas/common";

/** One log line of a node, as its agent read it (journald, a file). */
export const NodeLogEntrySchema = v.pipe(
  v.object({
    id: v.pipe(
      v.string(),
      v.description("Where this line is: a journald cursor, or the byte offset just past it in its file"),
    ),
    timestamp: v.pipe(
      v.string(),
      v.description("ISO 8601; a file line without a timestamp gets the file's modification time"),
    ),
    node_id: v.string(),
    source: v.picklist(["journal", "file", "docker"]),
    source_name: v.pipe(v.string(), v.description("The unit (journal) or the path (file)")),
    level: v.pipe(v.nullable(v.picklist(LOG_LEVELS)), v.description("syslog level, when known")),
    message: v.pipe(v.string(), v.description("The line (at most 16 KiB)")),
    fields: v.pipe(
      v.record(v.string(), v.unknown()),
      v.description("Extra fields (journal: pid, unit, identifier, comm)"),
    ),
  }),
  v.title("NodeLogEntry"),
);

const ALIASES: Record<string, LogLevel> = {
  error: "err",
  warn: "warning",
  critical: "crit",
  emergency: "emerg",
};

const Source = v.optional(
  v.pipe(
    v.picklist(["journal", "journald", "file", "docker"], "must be journal (or journald), file or docker"),
    v.transform((s) => (s === "journald" ? "journal" : s) as "journal" | "file" | "docker"),
  ),
  "journal",
);

const Levels = v.pipe(
  v.string(),
  v.transform((s) => s.split(",").map((l) => ALIASES[l.trim().toLowerCase()] ?? l.trim().toLowerCase())),
  v.check(
    (levels) => levels.every((l) => (LOG_LEVELS as readonly string[]).includes(l)),
    `each level must be one of ${LOG_LEVELS.join(", ")} (error and warn are accepted)`,
  ),
  v.transform((levels) => levels as LogLevel[]),
);

const desc = <T extends v.GenericSchema>(schema: T, description: string) => ({ schema, description });

/** The filters a query and a live tail share. */
export const LogFilterParams = {
  source: desc(Source, "journal (alias journald), file or docker; default journal"),
  source_name: desc(
    v.optional(v.pipe(v.string(), v.maxLength(4096))),
    "A systemd unit (journal) or an absolute path inside the node's allowed log paths (file)",
  ),
  level: desc(
    v.optional(Levels),
    "Comma-separated levels: emerg, alert, crit, err, warning, notice, info, debug",
  ),
  q: desc(v.optional(v.pipe(v.string(), v.maxLength(256))), "Case-insensitive substring of the message"),
} as const;

/** `GET /api/v1/nodes/{node_id}/logs`: the filters, a time range and cursor paging. */
export const LogQueryParams = {
  ...LogFilterParams,
  from: desc(v.optional(DateTimeInput), "Oldest time (ISO 8601)"),
  to: desc(v.optional(DateTimeInput), "Newest time (ISO 8601)"),
  page_size: desc(
    v.optional(
      v.pipe(
        v.string(),
        v.regex(/^\d{1,4}$/, "must be an integer from 1 to 1000"),
        v.transform(Number),
        v.minValue(1, "must be an integer from 1 to 1000"),
        v.maxValue(1000, "must be an integer from 1 to 1000"),
      ),
      "100",
    ),
    "Entries per page (1–1000, default 100)",
  ),
  cursor: desc(
    v.optional(v.pipe(v.string(), v.maxLength(1024))),
    "`meta.pagination.next_cursor` of the previous page",
  ),
} as const;
