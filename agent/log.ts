/** Log levels, least to most severe. */
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type LogFields = Record<string, string | number | boolean | null | undefined>;

/** A leveled line logger; fields render as `key=value` after the message. */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

// syslog priorities: journald reads a `<N>` prefix as the line's level (SyslogLevelPrefix=yes).
const SYSLOG_PRIORITY: Record<LogLevel, number> = { debug: 7, info: 6, warn: 4, error: 3 };

function renderFields(fields?: LogFields): string {
  if (!fields) return "";
  let out = "";
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    const text = String(value);
    out += ` ${key}=${/[\s"=]/.test(text) || text === "" ? JSON.stringify(text) : text}`;
  }
  return out;
}

/**
 * Creates a logger writing one line per entry to stderr. Under systemd (JOURNAL_STREAM
 * set) it prefixes syslog priorities and leaves timestamps to the journal.
 * @example const log = createLogger("info"); log.warn("reconnecting", { delay_ms: 1500 })
 */
export function createLogger(
  level: LogLevel,
  write: (line: string) => void = (line) => process.stderr.write(line),
  journald = Boolean(process.env.JOURNAL_STREAM),
): Logger {
  const threshold = LOG_LEVELS.indexOf(level);
  const emit = (lineLevel: LogLevel) => (message: string, fields?: LogFields) => {
    if (LOG_LEVELS.indexOf(lineLevel) < threshold) return;
    const prefix = journald
      ? `<${SYSLOG_PRIORITY[lineLevel]}>`
      : `${new Date().toISOString()} ${lineLevel.toUpperCase().padEnd(5)} `;
    write(`${prefix}${message}${renderFields(fields)}\n`);
  };
  return { debug: emit("debug"), info: emit("info"), warn: emit("warn"), error: emit("error") };
}
