import { useState } from "preact/hooks";
import { list, send } from "../api";
import { ErrorBox, Pager, Section, Status, Table, Tabs, when } from "../components/common";
import { useInterval, useLoad } from "../hooks";
import { to } from "../paths";

const TABS = ["Firing", "History", "Rules"] as const;
type Tab = (typeof TABS)[number];
const METRICS = ["cpu", "memory", "disk", "load_1m", "load_5m", "load_15m"];

interface Alert {
  id: string;
  rule_id: string;
  node_id: string;
  metric: string;
  level: string;
  status: string;
  value: number;
  peak_value: number;
  threshold: number;
  acknowledged: boolean;
  started_at: string;
  resolved_at: string | null;
}

function AlertTable({ status }: { status: "firing" | "resolved" }) {
  const [page, setPage] = useState(1);
  const [error, setError] = useState<unknown>(null);
  const rows = useLoad(
    () =>
      list<Alert>("/api/v1/alerts", {
        status,
        page,
        page_size: 25,
        order_by: "started_at",
        order_directions: "desc",
      }),
    [status, page],
  );
  useInterval(rows.reload, status === "firing" ? 10_000 : null);
  const ack = async (a: Alert) => {
    setError(null);
    try {
      await send("PATCH", `/api/v1/alerts/${a.id}/${a.acknowledged ? "unacknowledge" : "acknowledge"}`);
      rows.reload();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <>
      <ErrorBox error={rows.error ?? error} />
      <Table caption={status === "firing" ? "Firing alerts" : "Alert history"}>
        <thead>
          <tr>
            <th>Level</th>
            <th>Metric</th>
            <th>Node</th>
            <th>Value</th>
            <th>Threshold</th>
            <th>Started</th>
            {status === "resolved" ? <th>Resolved</th> : <th>Acknowledged</th>}
          </tr>
        </thead>
        <tbody>
          {rows.data?.data.map((a) => (
            <tr key={a.id} data-testid="alert">
              <td>
                <Status value={a.level} />
              </td>
              <td>{a.metric}</td>
              <td>
                <a href={to(`/nodes/${a.node_id}`)}>{a.node_id.slice(0, 8)}</a>
              </td>
              <td>
                {a.value.toFixed(1)} (peak {a.peak_value.toFixed(1)})
              </td>
              <td>{a.threshold}</td>
              <td>{when(a.started_at)}</td>
              <td>
                {status === "resolved" ? (
                  when(a.resolved_at)
                ) : (
                  <button
                    type="button"
                    onClick={() => ack(a)}
                    aria-label={`${a.acknowledged ? "Unacknowledge" : "Acknowledge"} ${a.metric} alert`}
                  >
                    {a.acknowledged ? "Unacknowledge" : "Acknowledge"}
                  </button>
                )}
              </td>
            </tr>
          ))}
          {rows.data?.data.length === 0 && (
            <tr>
              <td colSpan={7}>{status === "firing" ? "Nothing is firing." : "No resolved alert."}</td>
            </tr>
          )}
        </tbody>
      </Table>
      <Pager pagination={rows.data?.pagination} onPage={setPage} />
    </>
  );
}

function Rules() {
  const rows = useLoad(() => list<any>("/api/v1/alert_rules", { page_size: 100 }), []);
  const [error, setError] = useState<unknown>(null);
  const act = async (work: Promise<unknown>) => {
    setError(null);
    try {
      await work;
      rows.reload();
    } catch (err) {
      setError(err);
    }
  };
  const create = (e: Event) => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const f = new FormData(form);
    const critical = String(f.get("critical") ?? "");
    const tags = String(f.get("tags") ?? "").trim();
    void act(
      send("POST", "/api/v1/alert_rules", {
        name: String(f.get("name")),
        metric: String(f.get("metric")),
        operator: String(f.get("operator")),
        warning_threshold: Number(f.get("warning")),
        critical_threshold: critical ? Number(critical) : null,
        for_seconds: Number(f.get("for_seconds") || 0),
        targeting: { type: "all", ...(tags ? { node_filters: { tags } } : {}) },
      }).then(() => form.reset()),
    );
  };
  return (
    <>
      <ErrorBox error={rows.error ?? error} />
      <Table caption="Alert rules">
        <thead>
          <tr>
            <th>Name</th>
            <th>Condition</th>
            <th>For</th>
            <th>Enabled</th>
            <th>Actions</th>
          </tr>
        </thead>
        <tbody>
          {rows.data?.data.map((r) => (
            <tr key={r.id}>
              <td>{r.name}</td>
              <td>
                {r.metric} {r.operator === "gt" ? ">" : "<"} {r.warning_threshold}
                {r.critical_threshold !== null ? ` (critical ${r.critical_threshold})` : ""}
              </td>
              <td>{r.for_seconds}s</td>
              <td>
                <label>
                  <input
                    type="checkbox"
                    checked={r.enabled}
                    onChange={() =>
                      act(send("PATCH", `/api/v1/alert_rules/${r.id}`, { enabled: !r.enabled }))
                    }
                  />
                  <span class="sr-only">Enable {r.name}</span>
                </label>
              </td>
              <td>
                <button
                  type="button"
                  onClick={() =>
                    confirm(`Delete rule ${r.name}?`) && act(send("DELETE", `/api/v1/alert_rules/${r.id}`))
                  }
                >
                  Delete
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </Table>
      <form class="filters" onSubmit={create} aria-label="New alert rule">
        <label>
          Name
          <input name="name" required />
        </label>
        <label>
          Metric
          <select name="metric">
            {METRICS.map((m) => (
              <option key={m}>{m}</option>
            ))}
          </select>
        </label>
        <label>
          Operator
          <select name="operator">
            <option value="gt">above</option>
            <option value="lt">below</option>
          </select>
        </label>
        <label>
          Warning at
          <input name="warning" type="number" step="any" required />
        </label>
        <label>
          Critical at
          <input name="critical" type="number" step="any" />
        </label>
        <label>
          For (seconds)
          <input name="for_seconds" type="number" min={0} defaultValue="0" />
        </label>
        <label>
          Only tags
          <input name="tags" placeholder="web" />
        </label>
        <button type="submit">Add rule</button>
      </form>
    </>
  );
}

export function AlertsPage() {
  const [tab, setTab] = useState<Tab>("Firing");
  return (
    <>
      <h1>Alerts</h1>
      <Section title="Alerts">
        <Tabs<Tab> tabs={TABS} current={tab} onSelect={setTab} label="Alert views" />
        <div role="tabpanel" aria-label={tab} class="panel">
          {tab === "Firing" && <AlertTable status="firing" />}
          {tab === "History" && <AlertTable status="resolved" />}
          {tab === "Rules" && <Rules />}
        </div>
      </Section>
    </>
  );
}
