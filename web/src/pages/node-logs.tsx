import { useEffect, useState } from "preact/hooks";
import { openStream, page, type Query } from "../api";
import { ErrorBox, Section, Table, when } from "../components/common";
import { type FilterField, FilterForm } from "../components/filter-form";
import type { LogEntry } from "../schema";

const LIVE_LINES = 500;
const FIELDS: FilterField[] = [
  {
    name: "source",
    label: "Source",
    options: [
      ["journal", "journal"],
      ["file", "file"],
      ["docker", "docker"],
    ],
  },
  { name: "source_name", label: "Unit or path", placeholder: "sshd.service or /var/log/syslog" },
  { name: "level", label: "Levels", placeholder: "err,warning" },
  { name: "q", label: "Contains" },
];
const ACTIONS = [
  ["query", "Query"],
  ["tail", "Live tail"],
] as const;

interface Filters {
  source: string;
  source_name: string;
  level: string;
  q: string;
}

function filterQuery(f: Filters): Query {
  return { source: f.source, source_name: f.source_name, level: f.level, q: f.q };
}

function LogTable({ entries, caption }: { entries: LogEntry[]; caption: string }) {
  return (
    <Table caption={caption}>
      <thead>
        <tr>
          <th>Time</th>
          <th>Level</th>
          <th>Source</th>
          <th>Message</th>
        </tr>
      </thead>
      <tbody>
        {entries.map((e) => (
          <tr key={e.id} data-testid="log-entry">
            <td>{when(e.timestamp)}</td>
            <td>{e.level ?? "—"}</td>
            <td>{e.source_name}</td>
            <td>
              <code>{e.message}</code>
            </td>
          </tr>
        ))}
        {entries.length === 0 && (
          <tr>
            <td colSpan={4}>No line.</td>
          </tr>
        )}
      </tbody>
    </Table>
  );
}

/** A node's logs, read by its agent: a query paged by cursor (newest first), or a live tail. */
export function Logs({ nodeId }: { nodeId: string }) {
  const [filters, setFilters] = useState<Filters | null>(null);
  const [entries, setEntries] = useState<LogEntry[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [live, setLive] = useState(false);
  const [note, setNote] = useState<string | null>(null);

  const load = async (f: Filters, after: string | null) => {
    setError(null);
    try {
      const res = await fetchPage(nodeId, f, after);
      setEntries((prev) => (after ? [...prev, ...res.data] : res.data));
      setCursor(res.next);
      setNote(res.truncated ? "The scan stopped early; load more to go on." : null);
    } catch (err) {
      setError(err);
    }
  };

  useEffect(() => {
    if (!live || !filters) return;
    setEntries([]);
    setCursor(null);
    setNote("Following…");
    return openStream(
      `/api/v1/nodes/${nodeId}/logs/stream`,
      ["log", "dropped", "end"],
      {
        onEvent(event, data) {
          if (event === "log") setEntries((prev) => [data as LogEntry, ...prev].slice(0, LIVE_LINES));
          else if (event === "dropped")
            setNote(`${(data as { count: number }).count} lines dropped (too fast)`);
          else {
            setNote(`Stream ended (${(data as { reason?: string })?.reason ?? "closed"})`);
            setLive(false);
          }
        },
        onError: (err) => setError(err instanceof Event ? null : err),
      },
      filterQuery(filters),
    );
  }, [live, filters, nodeId]);

  const submit = (values: Record<string, string>, action: string) => {
    const f: Filters = {
      source: values.source ?? "journal",
      source_name: values.source_name ?? "",
      level: values.level ?? "",
      q: values.q ?? "",
    };
    const follow = action === "tail";
    setLive(follow);
    setFilters(f);
    if (!follow) void load(f, null);
  };

  return (
    <Section title="Logs">
      <FilterForm label="Log query" fields={FIELDS} actions={ACTIONS} onFilter={submit}>
        {live && (
          <button type="button" onClick={() => setLive(false)}>
            Stop
          </button>
        )}
      </FilterForm>
      <ErrorBox error={error} />
      {note && (
        <p class="muted" role="status">
          {note}
        </p>
      )}
      {filters && <LogTable entries={entries} caption={live ? "Live log lines" : "Log lines"} />}
      {!live && cursor && filters && (
        <button type="button" onClick={() => load(filters, cursor)}>
          Load more
        </button>
      )}
    </Section>
  );
}

interface LogMeta {
  pagination: { next_cursor: string | null };
  scan_truncated?: boolean;
}

async function fetchPage(nodeId: string, f: Filters, cursor: string | null) {
  const res = await page<LogEntry, LogMeta>(`/api/v1/nodes/${nodeId}/logs`, {
    ...filterQuery(f),
    cursor,
    page_size: 100,
  });
  return {
    data: res.data,
    next: res.meta.pagination.next_cursor,
    truncated: res.meta.scan_truncated === true,
  };
}
