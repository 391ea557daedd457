import { useState } from "preact/hooks";
import { send } from "../api";
import { Section, Status, Tabs, when } from "../components/common";
import { type Column, ConfirmButton, CreateForm, ResourceTable, useResource } from "../components/resource";
import { useInterval } from "../hooks";
import { to } from "../paths";
import type { Alert, AlertRule, AlertRuleInput } from "../schema";

const TABS = ["Firing", "History", "Rules"] as const;
type Tab = (typeof TABS)[number];
const METRICS = ["cpu", "memory", "disk", "load_1m", "load_5m", "load_15m"];

function AlertTable({ status }: { status: "firing" | "resolved" }) {
  const r = useResource<Alert>(
    "/api/v1/alerts",
    { status, order_by: "started_at", order_directions: "desc" },
    25,
  );
  useInterval(r.rows.reload, status === "firing" ? 10_000 : null);
  const ack = (a: Alert) =>
    r.act(() => send("PATCH", `/api/v1/alerts/${a.id}/${a.acknowledged ? "unacknowledge" : "acknowledge"}`));
  const columns: Column<Alert>[] = [
    { label: "Level", cell: (a) => <Status value={a.level} /> },
    { label: "Metric", cell: (a) => a.metric },
    { label: "Node", cell: (a) => <a href={to(`/nodes/${a.node_id}`)}>{a.node_id.slice(0, 8)}</a> },
    { label: "Value", cell: (a) => `${a.value.toFixed(1)} (peak ${a.peak_value.toFixed(1)})` },
    { label: "Threshold", cell: (a) => a.threshold },
    { label: "Started", cell: (a) => when(a.started_at) },
    status === "resolved"
      ? { label: "Resolved", cell: (a) => when(a.resolved_at) }
      : {
          label: "Acknowledged",
          cell: (a) => (
            <button
              type="button"
              onClick={() => ack(a)}
              aria-label={`${a.acknowledged ? "Unacknowledge" : "Acknowledge"} ${a.metric} alert`}
            >
              {a.acknowledged ? "Unacknowledge" : "Acknowledge"}
            </button>
          ),
        },
  ];
  return (
    <ResourceTable
      resource={r}
      caption={status === "firing" ? "Firing alerts" : "Alert history"}
      rowKey={(a) => a.id}
      rowProps={() => ({ "data-testid": "alert" })}
      empty={status === "firing" ? "Nothing is firing." : "No resolved alert."}
      columns={columns}
    />
  );
}

function Rules() {
  const r = useResource<AlertRule>("/api/v1/alert_rules", {}, 100);
  return (
    <>
      <ResourceTable
        resource={r}
        caption="Alert rules"
        rowKey={(rule) => rule.id}
        columns={[
          { label: "Name", cell: (rule) => rule.name },
          {
            label: "Condition",
            cell: (rule) =>
              `${rule.metric} ${rule.operator === "gt" ? ">" : "<"} ${rule.warning_threshold}${
                rule.critical_threshold !== null ? ` (critical ${rule.critical_threshold})` : ""
              }`,
          },
          { label: "For", cell: (rule) => `${rule.for_seconds}s` },
          {
            label: "Enabled",
            cell: (rule) => (
              <label>
                <input
                  type="checkbox"
                  checked={rule.enabled}
                  onChange={() =>
                    r.act(() => send("PATCH", `/api/v1/alert_rules/${rule.id}`, { enabled: !rule.enabled }))
                  }
                />
                <span class="sr-only">Enable {rule.name}</span>
              </label>
            ),
          },
          {
            label: "Actions",
            cell: (rule) => (
              <ConfirmButton
                question={`Delete rule ${rule.name}?`}
                onConfirm={() => r.act(() => send("DELETE", `/api/v1/alert_rules/${rule.id}`))}
              >
                Delete
              </ConfirmButton>
            ),
          },
        ]}
      />
      <CreateForm
        label="Add rule"
        onSubmit={(f) => {
          const critical = String(f.get("critical") ?? "");
          const tags = String(f.get("tags") ?? "").trim();
          const body: AlertRuleInput = {
            name: String(f.get("name")),
            metric: String(f.get("metric")) as AlertRuleInput["metric"],
            operator: String(f.get("operator")) as AlertRuleInput["operator"],
            warning_threshold: Number(f.get("warning")),
            critical_threshold: critical ? Number(critical) : null,
            for_seconds: Number(f.get("for_seconds") || 0),
            targeting: { type: "all", ...(tags ? { node_filters: { tags } } : {}) },
          };
          return r.act(() => send("POST", "/api/v1/alert_rules", body));
        }}
      >
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
      </CreateForm>
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
