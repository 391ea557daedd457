import { describeError } from "./db/errors";

/**
 * The Worker's and the Durable Objects' logger: one JSON object per line, `{level, msg, …fields}`,
 * written through `console.*` so Workers Logs keeps the level and indexes the fields. A child
 * logger carries bound fields (`request_id`, `node_id`, `job`) on every line it writes.
 */

/** Severity, lowest first; lines below a logger's level are dropped. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** Structured fields of a line. An `Error` value is written as its description with causes, without query parameters. */
export type LogFields = Record<string, unknown>;

/** Writes structured lines; see `createLogger`. */
export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger whose lines also carry `fields` (a line's own fields win over bound ones of the same name). */
  child(fields: LogFields): Logger;
}

/** Options of `createLogger`. */
export interface LoggerOptions {
  /** Lowest level written; `info` by default. */
  level?: LogLevel;
  /** Fields bound to every line. */
  fields?: LogFields;
  /** Where a finished line goes; `console.debug/info/warn/error` by level by default. */
  write?: (level: LogLevel, line: string) => void;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

function toConsole(level: LogLevel, line: string): void {
  console[level](line);
}

function jsonValue(_key: string, value: unknown): unknown {
  if (value instanceof Error) return describeError(value);
  if (typeof value === "bigint") return value.toString();
  return value;
}

/** One line; a value JSON cannot hold (a cycle) costs its fields, never the line. */
function render(level: LogLevel, msg: string, fields: LogFields): string {
  try {
    return JSON.stringify({ level, msg, ...fields }, jsonValue);
  } catch (err) {
    return JSON.stringify({ level, msg, log_error: `fields not serialisable: ${describeError(err)}` });
  }
}

/**
 * A structured logger.
 * @example
 * const log = createLogger({ fields: { node_id } });
 * log.child({ request_id }).warn("delivery failed", { error: err });
 * // {"level":"warn","msg":"delivery failed","node_id":"…","request_id":"…","error":"Error: …"}
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const min = RANK[options.level ?? "info"];
  const bound = options.fields ?? {};
  const write = options.write ?? toConsole;
  const at =
    (level: LogLevel) =>
    (msg: string, fields: LogFields = {}): void => {
      if (RANK[level] >= min) write(level, render(level, msg, { ...bound, ...fields }));
    };
  return {
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    child: (fields) => createLogger({ ...options, fields: { ...bound, ...fields } }),
  };
}
