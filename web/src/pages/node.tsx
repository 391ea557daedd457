import { Fragment } from "preact";
import { useMemo, useState } from "preact/hooks";
import { useRoute } from "preact-iso";
import { get, list, send } from "../api";
import { BandChart, type BandSeries } from "../components/chart";
import { ErrorBox, Pager, pct, Section, Status, Table, Tabs, when } from "../components/common";
import { SectionData } from "../components/data-view";
import { useLoad } from "../hooks";
import { to } from "../paths";
import type { Execution, Node } from "../types";
import { Files } from "./node-files";
import { uptimeText, useNowMetrics } from "./node-live-metrics";
import { Logs } from "./node-logs";
import { Processes } from "./node-processes";

const RANGES = ["1h", "24h", "7d", "30d"] as const;
const INVENTORY_TABS = [
  "software",
  "system",
  "hardware",
  "storage",
  "network",
  "users",
  "updates",
  "services",
] as const;
type Range = (typeof RANGES)[number];
type InventoryTab = (typeof INVENTORY_TABS)[number];

function Facts({ node }: { node: Node }) {
  const rows: [string, string][] = [
    ["ID", node.id],
    ["Cluster", node.cluster_name],
    ["Hostname", node.hostname ?? "—"],
    ["OS", node.os_version ?? "—"],
    ["Platform", [node.platform, node.arch].filter(Boolean).join(" / ") || "—"],
    ["Kernel", node.kernel ?? "—"],
    ["Primary IP", node.primary_ip ?? "—"],
    ["Agent version", node.version ?? "—"],
    ["Last seen", when(node.last_seen_at)],
    ["Enrolled", when(node.inserted_at)],
  ];
  return (
    <dl class="facts">
      {rows.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}

function Edit({ node, onSaved }: { node: Node; onSaved(node: Node): void }) {
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const save = async (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    const tags = String(form.get("tags") ?? "")
      .split(",")
      .map((t) => t.trim())
      .filter(Boolean);
    const notes = String(form.get("notes") ?? "");
    setError(null);
    setSaved(false);
    try {
      onSaved(await send<Node>("PATCH", `/api/v1/nodes/${node.id}`, { tags, notes: notes || null }));
      setSaved(true);
    } catch (err) {
      setError(err);
    }
  };
  return (
    <form onSubmit={save} class="stack" aria-label="Tags and notes">
      <label>
        Tags (comma-separated)
        <input name="tags" defaultValue={node.tags.join(", ")} />
      </label>
      <label>
        Notes
        <textarea name="notes" rows={3} defaultValue={node.notes ?? ""} />
      </label>
      <ErrorBox error={error} />
      <div>
        <button type="submit">Save</button> {saved && <span role="status">Saved.</span>}
      </div>
    </form>
  );
}

interface HistoryPoint {
  timestamp: string;
  [metric: string]: { avg: number; min: number; max: number } | string;
}

function Metrics({ nodeId }: { nodeId: string }) {
  const [range, setRange] = useState<Range>("1h");
  const history = useLoad(
    () =>
      get<{ points: HistoryPoint[] }>(`/api/v1/nodes/${nodeId}/metrics/history`, {
        range,
        metrics: "cpu,memory,disk",
      }),
    [nodeId, range],
  );
  const now = useNowMetrics(nodeId);
  const chart = useMemo(() => {
    const points = history.data?.points ?? [];
    const times = points.map((p) => Date.parse(p.timestamp) / 1000);
    const series = (name: string, label: string, color: string): BandSeries => {
      const values = points.map((p) => p[name] as { avg: number; min: number; max: number } | undefined);
      return {
        label,
        color,
        avg: values.map((v) => v?.avg ?? null),
        min: values.map((v) => v?.min ?? null),
        max: values.map((v) => v?.max ?? null),
      };
    };
    return {
      times,
      cpu: [series("cpu", "CPU", "#2563eb")],
      memory: [series("memory", "Memory", "#16a34a")],
      disk: [series("disk", "Disk", "#d97706")],
    };
  }, [history.data]);
  return (
    <Section
      title="Metrics"
      actions={
        <fieldset class="range">
          <legend class="sr-only">Range</legend>
          {RANGES.map((r) => (
            <label key={r}>
              <input type="radio" name="range" checked={range === r} onChange={() => setRange(r)} /> {r}
            </label>
          ))}
        </fieldset>
      }
    >
      <p data-testid="metrics-now">
        {now.live ? "Live" : "Latest"}: CPU {pct(now.cpu)}, memory {pct(now.memory)}, disk {pct(now.disk)}
        {now.uptimeSeconds !== null ? `, up ${uptimeText(now.uptimeSeconds)}` : ""}
      </p>
      <ErrorBox error={history.error} />
      {chart.times.length === 0 ? (
        <p>No samples in this range yet.</p>
      ) : (
        <div class="charts">
          <BandChart title="CPU" times={chart.times} series={chart.cpu} />
          <BandChart title="Memory" times={chart.times} series={chart.memory} />
          <BandChart title="Disk" times={chart.times} series={chart.disk} />
        </div>
      )}
    </Section>
  );
}

function Software({ nodeId }: { nodeId: string }) {
  const [name, setName] = useState("");
  const [page, setPage] = useState(1);
  const rows = useLoad(
    () =>
      list<any>(`/api/v1/nodes/${nodeId}/software`, {
        name: name ? `*${name}*` : undefined,
        page,
        page_size: 50,
      }),
    [nodeId, name, page],
  );
  return (
    <>
      <label>
        Search packages
        <input
          type="search"
          value={name}
          onInput={(e) => {
            setName((e.currentTarget as HTMLInputElement).value);
            setPage(1);
          }}
        />
      </label>
      <ErrorBox error={rows.error} />
      <Table caption="Installed software">
        <thead>
          <tr>
            <th>Name</th>
            <th>Version</th>
            <th>Architecture</th>
            <th>Source</th>
          </tr>
        </thead>
        <tbody>
          {rows.data?.data.map((p) => (
            <tr key={`${p.name}@${p.version}@${p.architecture}`}>
              <td>{p.name}</td>
              <td>{p.version}</td>
              <td>{p.architecture}</td>
              <td>{p.source}</td>
            </tr>
          ))}
        </tbody>
      </Table>
      <Pager pagination={rows.data?.pagination} onPage={setPage} />
    </>
  );
}

function Inventory({ nodeId }: { nodeId: string }) {
  const [tab, setTab] = useState<InventoryTab>("software");
  const inventory = useLoad(
    () =>
      get<{
        sections: {
          section: string;
          status: string;
          reason: string | null;
          collected_at: string;
          data: unknown;
        }[];
      }>(`/api/v1/nodes/${nodeId}/inventory`),
    [nodeId],
  );
  const section = inventory.data?.sections.find((s) => s.section === tab);
  return (
    <Section title="Inventory">
      <Tabs<InventoryTab>
        tabs={INVENTORY_TABS}
        current={tab}
        onSelect={setTab}
        label="Inventory sections"
        name={(t) => t[0].toUpperCase() + t.slice(1)}
      />
      <div role="tabpanel" aria-label={tab} class="panel">
        {tab === "software" ? (
          <Software nodeId={nodeId} />
        ) : (
          <>
            <ErrorBox error={inventory.error} />
            {!section && inventory.data && <p>Not reported by this node yet.</p>}
            {section?.status === "unavailable" && <p>Unavailable: {section.reason}</p>}
            {section?.status === "ok" && (
              <>
                <p class="muted">Collected {when(section.collected_at)}</p>
                <SectionData data={section.data} label={tab} />
              </>
            )}
          </>
        )}
      </div>
    </Section>
  );
}

function History({ nodeId }: { nodeId: string }) {
  const [page, setPage] = useState(1);
  const [open, setOpen] = useState<string | null>(null);
  const rows = useLoad(
    () =>
      list<Execution>("/api/v1/command_executions", {
        node_id: nodeId,
        order_by: "inserted_at",
        order_directions: "desc",
        page,
        page_size: 10,
      }),
    [nodeId, page],
  );
  return (
    <Section title="Command history" actions={<a href={to(`/run?node_ids=${nodeId}`)}>Run a command here</a>}>
      <ErrorBox error={rows.error} />
      <Table caption="Command history">
        <thead>
          <tr>
            <th>Command</th>
            <th>Status</th>
            <th>Exit code</th>
            <th>Started</th>
            <th>Output</th>
          </tr>
        </thead>
        <tbody>
          {rows.data?.data.map((x) => (
            <Fragment key={x.id}>
              <tr>
                <td>
                  <code>{x.command_text}</code>
                </td>
                <td>
                  <Status value={x.status} />
                </td>
                <td>{x.exit_code ?? "—"}</td>
                <td>{when(x.inserted_at)}</td>
                <td>
                  <button
                    type="button"
                    aria-expanded={open === x.id}
                    onClick={() => setOpen(open === x.id ? null : x.id)}
                  >
                    {open === x.id ? "Hide" : "Show"}
                  </button>
                </td>
              </tr>
              {open === x.id && (
                <tr>
                  <td colSpan={5}>
                    <pre class="output">{x.output ?? ""}</pre>
                  </td>
                </tr>
              )}
            </Fragment>
          ))}
        </tbody>
      </Table>
      <Pager pagination={rows.data?.pagination} onPage={setPage} />
    </Section>
  );
}

export function NodePage() {
  const { params } = useRoute();
  const id = params.id;
  const node = useLoad(() => get<Node>(`/api/v1/nodes/${id}`), [id]);
  const [edited, setEdited] = useState<Node | null>(null);
  const n = edited?.id === id ? edited : node.data;
  return (
    <>
      <p>
        <a href={to("/")}>← Fleet</a>
      </p>
      <ErrorBox error={node.error} />
      {n && (
        <>
          <h1>
            {n.display_name || n.hostname || n.node_name} <Status value={n.status} />
          </h1>
          <div class="grid2">
            <Section title="Facts">
              <Facts node={n} />
            </Section>
            <Section title="Tags and notes">
              <Edit node={n} onSaved={setEdited} key={n.updated_at} />
            </Section>
          </div>
          <Metrics nodeId={id} />
          <Inventory nodeId={id} />
          <Processes nodeId={id} />
          <Logs nodeId={id} />
          <Files nodeId={id} />
          <History nodeId={id} />
        </>
      )}
    </>
  );
}
