import { useEffect, useState } from "preact/hooks";
import { useLocation } from "preact-iso";
import { get, list, openStream, send } from "../api";
import { ErrorBox, Section, Status, Table } from "../components/common";
import type { Execution, Node } from "../types";

type Mode = "all" | "nodes" | "clusters";
const FILTER_KEYS = ["tags", "hostname", "status", "cluster_name"] as const;
// The server serves a few streams per node; the console follows this many executions live and shows
// the rest from the stored results as they complete.
const MAX_LIVE_STREAMS = 25;

interface Targets {
  mode: Mode;
  nodeIds: string[];
  clusters: string[];
  filters: Record<string, string>;
}

interface Summary {
  total: number;
  counts: { pending: number; sent: number; completed: number; cancelled: number; expired: number };
  exit_codes: Record<string, number>;
}

const split = (s: string) =>
  s
    .split(/[\s,]+/)
    .map((x) => x.trim())
    .filter(Boolean);

function targeting(t: Targets) {
  const node_filters = Object.keys(t.filters).length ? t.filters : undefined;
  if (t.mode === "nodes") return { type: "nodes", node_ids: t.nodeIds, node_filters };
  if (t.mode === "clusters") return { type: "clusters", cluster_names: t.clusters, node_filters };
  return { type: "all", node_filters };
}

async function countMatching(t: Targets): Promise<number> {
  const count = async (extra: Record<string, string>) =>
    (await list("/api/v1/nodes", { ...t.filters, ...extra, page_size: 1 })).pagination.total_count;
  if (t.mode === "nodes") {
    if (!Object.keys(t.filters).length) return t.nodeIds.length;
    // Each id checked against the filters: only a handful are typed by hand.
    const nodes = await Promise.all(
      t.nodeIds.map((id) => get<Node>(`/api/v1/nodes/${id}`).catch(() => null)),
    );
    return nodes.filter(
      (n) => n && Object.entries(t.filters).every(([k, v]) => k !== "status" || n.status === v),
    ).length;
  }
  if (t.mode === "clusters") {
    const counts = await Promise.all(t.clusters.map((c) => count({ cluster_name: c })));
    return counts.reduce((a, b) => a + b, 0);
  }
  return count({});
}

function TargetCount({ targets }: { targets: Targets }) {
  const [state, setState] = useState<{ n?: number; error?: unknown }>({});
  const key = JSON.stringify(targets);
  useEffect(() => {
    let live = true;
    const timer = setTimeout(() => {
      countMatching(targets).then(
        (n) => live && setState({ n }),
        (error) => live && setState({ error }),
      );
    }, 300);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [key]);
  return (
    <p aria-live="polite" data-testid="target-count">
      {state.error
        ? "Cannot count the matching nodes."
        : state.n === undefined
          ? "Counting…"
          : `${state.n} matching node${state.n === 1 ? "" : "s"}`}
    </p>
  );
}

interface Row {
  execution: Execution;
  output: string;
  live: boolean;
}

function Progress({ summary }: { summary: Summary | null }) {
  if (!summary) return null;
  const { counts, total, exit_codes } = summary;
  const failed = Object.entries(exit_codes)
    .filter(([code]) => code !== "0")
    .reduce((a, [, n]) => a + n, 0);
  const done = counts.completed + counts.cancelled + counts.expired;
  return (
    <div class="progress">
      <label>
        Progress
        <progress max={Math.max(total, 1)} value={done}>
          {done} of {total}
        </progress>
      </label>
      <ul class="stats small" aria-live="polite" data-testid="run-counts">
        <li>
          <span>Pending</span>
          <strong>{counts.pending}</strong>
        </li>
        <li>
          <span>Sent</span>
          <strong>{counts.sent}</strong>
        </li>
        <li>
          <span>Completed</span>
          <strong>{counts.completed - failed}</strong>
        </li>
        <li>
          <span>Failed</span>
          <strong>{failed + counts.cancelled + counts.expired}</strong>
        </li>
      </ul>
      {done === total && total > 0 && (
        <p data-testid="exit-summary">
          Exit codes:{" "}
          {Object.entries(exit_codes)
            .map(([code, n]) => `${code} × ${n}`)
            .join(", ") || "none"}
          {counts.cancelled ? `; cancelled × ${counts.cancelled}` : ""}
          {counts.expired ? `; expired × ${counts.expired}` : ""}
        </p>
      )}
    </div>
  );
}

const finished = (x: Execution) => x.status !== "pending" && x.status !== "sent";

function useRun(commandId: string | null) {
  const [summary, setSummary] = useState<Summary | null>(null);
  const [rows, setRows] = useState<Record<string, Row>>({});
  const [names, setNames] = useState<Record<string, string>>({});

  useEffect(() => {
    if (!commandId) return;
    let live = true;
    // Streams open now; executions whose output comes from a stream (a finished execution's stream
    // replays its stored output, so the stored copy is never added to it); streams that failed.
    const opened = new Map<string, () => void>();
    const streamed = new Map<string, string>();
    const failed = new Set<string>();
    const named = new Set<string>();
    const close = (id: string) => {
      opened.get(id)?.();
      opened.delete(id);
    };
    const follow = (x: Execution) => {
      if (streamed.has(x.id) || failed.has(x.id) || opened.size >= MAX_LIVE_STREAMS) return;
      streamed.set(x.id, "");
      const path = `/api/v1/command_executions/${x.id}/stream`;
      opened.set(
        x.id,
        openStream(path, ["output", "end"], {
          onEvent(event, data) {
            if (event === "output") {
              const text = (streamed.get(x.id) ?? "") + (data?.chunk ?? "");
              streamed.set(x.id, text);
              setRows((prev) => ({
                ...prev,
                [x.id]: { execution: prev[x.id]?.execution ?? x, output: text, live: true },
              }));
              return;
            }
            close(x.id);
            setRows((prev) => {
              const row = prev[x.id] ?? { execution: x, output: streamed.get(x.id) ?? "", live: false };
              const execution = {
                ...row.execution,
                status: data?.status,
                exit_code: data?.exit_code ?? null,
              };
              return { ...prev, [x.id]: { ...row, live: false, execution } };
            });
          },
          onError() {
            // A refused or expired stream: the stored output shows once the execution ends.
            close(x.id);
            streamed.delete(x.id);
            failed.add(x.id);
            get<Execution>(`/api/v1/command_executions/${x.id}`).then(
              (stored) =>
                setRows((prev) => ({
                  ...prev,
                  [x.id]: { execution: stored, output: stored.output ?? "", live: false },
                })),
              () => undefined,
            );
          },
        }),
      );
    };
    const poll = async () => {
      const [s, xs] = await Promise.all([
        get<Summary>(`/api/v1/commands/${commandId}/summary`),
        list<Execution>("/api/v1/command_executions", { command_id: commandId, page_size: 100 }),
      ]);
      if (!live) return true;
      setSummary(s);
      for (const x of xs.data) follow(x);
      setRows((prev) => {
        const next = { ...prev };
        for (const x of xs.data) {
          const row = prev[x.id];
          const execution = row && finished(row.execution) && !finished(x) ? row.execution : x;
          const output = streamed.has(x.id) ? (streamed.get(x.id) ?? "") : (x.output ?? "");
          next[x.id] = { execution, output, live: opened.has(x.id) };
        }
        return next;
      });
      for (const x of xs.data) {
        if (!x.node_id || named.has(x.node_id)) continue;
        named.add(x.node_id);
        get<Node>(`/api/v1/nodes/${x.node_id}`).then(
          (n) => setNames((p) => ({ ...p, [n.id]: n.display_name || n.hostname || n.node_name })),
          () => undefined,
        );
      }
      return s.counts.pending + s.counts.sent === 0;
    };
    let timer: ReturnType<typeof setTimeout>;
    const loop = async () => {
      const done = await poll().catch(() => false);
      if (live && !done) timer = setTimeout(loop, 1500);
    };
    void loop();
    return () => {
      live = false;
      clearTimeout(timer);
      for (const id of [...opened.keys()]) close(id);
    };
  }, [commandId]);
  return { summary, rows: Object.values(rows), names };
}

export function RunPage() {
  const { query } = useLocation();
  const [mode, setMode] = useState<Mode>(query.node_ids ? "nodes" : query.cluster_names ? "clusters" : "all");
  const [nodeIds, setNodeIds] = useState(query.node_ids ?? "");
  const [clusters, setClusters] = useState(query.cluster_names ?? "");
  const [filters, setFilters] = useState<Record<string, string>>(
    Object.fromEntries(FILTER_KEYS.filter((k) => query[k]).map((k) => [k, query[k]])),
  );
  const [command, setCommand] = useState("");
  const [timeout, setTimeoutValue] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [commandId, setCommandId] = useState<string | null>(null);
  const run = useRun(commandId);

  const targets: Targets = { mode, nodeIds: split(nodeIds), clusters: split(clusters), filters };

  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      const created = await send<{ id: string }>("POST", "/api/v1/commands", {
        command_text: command,
        targeting: targeting(targets),
        timeout: timeout ? Number(timeout) : null,
      });
      setCommandId(created.id);
    } catch (err) {
      setError(err);
    }
  };

  const setFilter = (k: string, v: string) =>
    setFilters((prev) => {
      const next = { ...prev };
      if (v.trim()) next[k] = v.trim();
      else delete next[k];
      return next;
    });

  return (
    <>
      <h1>Run a command</h1>
      <form onSubmit={submit} class="stack" aria-label="Run a command">
        <fieldset>
          <legend>Targets</legend>
          <div class="switch">
            {(["all", "nodes", "clusters"] as const).map((m) => (
              <label key={m}>
                <input type="radio" name="mode" checked={mode === m} onChange={() => setMode(m)} />{" "}
                {m === "all" ? "All nodes" : m === "nodes" ? "Nodes" : "Clusters"}
              </label>
            ))}
          </div>
          {mode === "nodes" && (
            <label>
              Node ids (comma-separated)
              <input
                value={nodeIds}
                onInput={(e) => setNodeIds((e.currentTarget as HTMLInputElement).value)}
              />
            </label>
          )}
          {mode === "clusters" && (
            <label>
              Cluster names (comma-separated)
              <input
                value={clusters}
                onInput={(e) => setClusters((e.currentTarget as HTMLInputElement).value)}
              />
            </label>
          )}
          <div class="filters">
            <label>
              Tags
              <input
                name="tags"
                value={filters.tags ?? ""}
                placeholder="web,env:prod"
                onInput={(e) => setFilter("tags", (e.currentTarget as HTMLInputElement).value)}
              />
            </label>
            <label>
              Hostname
              <input
                name="hostname"
                value={filters.hostname ?? ""}
                placeholder="web-*"
                onInput={(e) => setFilter("hostname", (e.currentTarget as HTMLInputElement).value)}
              />
            </label>
            <label>
              Cluster
              <input
                name="cluster_name"
                value={filters.cluster_name ?? ""}
                onInput={(e) => setFilter("cluster_name", (e.currentTarget as HTMLInputElement).value)}
              />
            </label>
            <label>
              Status
              <select
                value={filters.status ?? ""}
                onChange={(e) => setFilter("status", (e.currentTarget as HTMLSelectElement).value)}
              >
                <option value="">any</option>
                <option>healthy</option>
                <option>unhealthy</option>
                <option>unreachable</option>
              </select>
            </label>
          </div>
          <TargetCount targets={targets} />
        </fieldset>
        <label>
          Command
          <textarea
            name="command"
            rows={3}
            required
            class="mono"
            value={command}
            onInput={(e) => setCommand((e.currentTarget as HTMLTextAreaElement).value)}
          />
        </label>
        <label>
          Timeout (seconds, optional)
          <input
            type="number"
            min={1}
            value={timeout}
            onInput={(e) => setTimeoutValue((e.currentTarget as HTMLInputElement).value)}
          />
        </label>
        <ErrorBox error={error} />
        <button type="submit">Run</button>
      </form>

      {commandId && (
        <Section title="Results">
          <Progress summary={run.summary} />
          <Table caption="Output per node">
            <thead>
              <tr>
                <th>Node</th>
                <th>Status</th>
                <th>Exit code</th>
                <th>Output</th>
              </tr>
            </thead>
            <tbody>
              {run.rows.map(({ execution: x, output }) => (
                <tr key={x.id} data-testid="execution">
                  <td>{(x.node_id && run.names[x.node_id]) || x.node_id}</td>
                  <td>
                    <Status value={x.status} />
                  </td>
                  <td>{x.exit_code ?? "—"}</td>
                  <td>
                    <pre class="output">{output}</pre>
                  </td>
                </tr>
              ))}
            </tbody>
          </Table>
        </Section>
      )}
    </>
  );
}
