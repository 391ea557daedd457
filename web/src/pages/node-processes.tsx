import { useState } from "preact/hooks";
import { send } from "../api";
import { pct, Section } from "../components/common";
import { type Column, ResourceTable, useResource } from "../components/resource";
import type { Process, SignalResult } from "../schema";

const SORTS = [
  ["cpu_percent", "CPU"],
  ["memory_bytes", "Memory"],
  ["pid", "PID"],
  ["start_time", "Started"],
] as const;
type Sort = (typeof SORTS)[number][0];
const SIGNALS = ["SIGTERM", "SIGHUP", "SIGINT", "SIGKILL", "SIGUSR1", "SIGUSR2"] as const;

const mib = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MiB`;

/** A node's live processes (read from its agent on each load), sortable, with a signal per row. */
export function Processes({ nodeId }: { nodeId: string }) {
  const [sort, setSort] = useState<{ by: Sort; dir: "asc" | "desc" }>({ by: "cpu_percent", dir: "desc" });
  const [name, setName] = useState("");
  const r = useResource<Process>(
    `/api/v1/nodes/${nodeId}/processes`,
    { order_by: sort.by, order_directions: sort.dir, name: name ? `*${name}*` : undefined },
    20,
  );
  const [sent, setSent] = useState<string | null>(null);
  const signal = (p: Process, form: HTMLFormElement) => {
    const sig = String(new FormData(form).get("signal"));
    if (!confirm(`Send ${sig} to ${p.name} (pid ${p.pid})?`)) return;
    setSent(null);
    void r.act(async () => {
      // start_time: a pid reused since the list was read is refused (409), not signalled.
      const res = await send<SignalResult>("POST", `/api/v1/nodes/${nodeId}/processes/${p.pid}/signal`, {
        signal: sig,
        start_time: p.start_time,
      });
      setSent(`${res.signal} sent to pid ${res.pid}`);
    });
  };
  const columns: Column<Process>[] = [
    { label: "PID", cell: (p) => p.pid },
    { label: "Name", cell: (p) => <span title={p.cmdline}>{p.name}</span> },
    { label: "User", cell: (p) => p.user },
    { label: "State", cell: (p) => p.state },
    { label: "CPU", cell: (p) => pct(p.cpu_percent) },
    { label: "Memory", cell: (p) => mib(p.memory_bytes) },
    {
      label: "Signal",
      cell: (p) => (
        <form
          class="inline"
          aria-label={`Signal ${p.name} ${p.pid}`}
          onSubmit={(e) => {
            e.preventDefault();
            signal(p, e.currentTarget as HTMLFormElement);
          }}
        >
          <select name="signal" aria-label={`Signal for pid ${p.pid}`}>
            {SIGNALS.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
          <button type="submit" aria-label={`Send signal to pid ${p.pid}`}>
            Send
          </button>
        </form>
      ),
    },
  ];
  return (
    <Section
      title="Processes"
      actions={
        <button type="button" onClick={() => r.rows.reload()}>
          Refresh
        </button>
      }
    >
      <form
        class="filters"
        aria-label="Process filters"
        onSubmit={(e) => {
          e.preventDefault();
          setName(String(new FormData(e.currentTarget as HTMLFormElement).get("name") ?? "").trim());
          r.setPage(1);
        }}
      >
        <label>
          Name contains
          <input name="name" defaultValue={name} />
        </label>
        <label>
          Sort by
          <select
            value={sort.by}
            onChange={(e) => setSort({ ...sort, by: (e.currentTarget as HTMLSelectElement).value as Sort })}
          >
            {SORTS.map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </label>
        <label>
          Order
          <select
            value={sort.dir}
            onChange={(e) =>
              setSort({ ...sort, dir: (e.currentTarget as HTMLSelectElement).value as "asc" | "desc" })
            }
          >
            <option value="desc">descending</option>
            <option value="asc">ascending</option>
          </select>
        </label>
        <button type="submit">Find</button>
      </form>
      {sent && (
        <p role="status" data-testid="signal-result">
          {sent}
        </p>
      )}
      <ResourceTable
        resource={r}
        caption="Processes"
        rowKey={(p) => p.pid}
        rowProps={(p) => ({ "data-testid": "process", "data-pid": String(p.pid) })}
        empty="No process matches."
        columns={columns}
      />
    </Section>
  );
}
