// Tables for people, JSON for scripts: every command prints through these.

/** Writes `value` as indented JSON on stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

// East Asian wide characters and emoji would need a width table; fleet fields are ASCII in practice.
const width = (text: string) => [...text].length;

/** Renders rows as aligned columns under upper-case headers; `null`/`undefined` print as `-`. */
export function renderTable(headers: string[], rows: unknown[][]): string {
  const cells = rows.map((row) => row.map(cell));
  const widths = headers.map((h, i) => Math.max(width(h), ...cells.map((r) => width(r[i] ?? ""))));
  const line = (values: string[]) =>
    values
      .map((v, i) => (i === values.length - 1 ? v : v + " ".repeat(widths[i] - width(v))))
      .join("  ")
      .trimEnd();
  return [line(headers.map((h) => h.toUpperCase())), ...cells.map(line)].join("\n");
}

/** Prints a table on stdout (a note on stderr when there are no rows, so pipes stay clean). */
export function printTable(headers: string[], rows: unknown[][], empty = "nothing found"): void {
  if (rows.length === 0) {
    process.stderr.write(`${empty}\n`);
    return;
  }
  process.stdout.write(`${renderTable(headers, rows)}\n`);
}

/** Prints `key: value` lines, keys padded to one column. */
export function printFields(fields: [string, unknown][]): void {
  const pad = Math.max(...fields.map(([k]) => k.length)) + 2;
  for (const [key, value] of fields) process.stdout.write(`${`${key}:`.padEnd(pad)}${cell(value)}\n`);
}

function cell(value: unknown): string {
  if (value === null || value === undefined || value === "") return "-";
  if (Array.isArray(value)) return value.length ? value.map(cell).join(",") : "-";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

/** `2026-12-05T04:58:59Z` → `3m ago` (relative to `now`); null → `never`. */
export function ago(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return "never";
  const seconds = Math.round((now - Date.parse(iso)) / 1000);
  if (Number.isNaN(seconds)) return iso;
  if (seconds < 0) return "just now";
  if (seconds < 60) return `${seconds}s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ago`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h ago`;
  return `${Math.floor(seconds / 86_400)}d ago`;
}

/** The first 8 characters of a UUID, enough to recognise a row. */
export function shortId(id: string): string {
  return id.slice(0, 8);
}
