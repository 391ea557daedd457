import { useState } from "preact/hooks";
import { get, list } from "../api";
import { ErrorBox, Pager, Section, Table, when } from "../components/common";
import { useLoad } from "../hooks";

interface Verification {
  available: boolean;
  verified: boolean;
  message: string;
  from_seq: number;
  to_seq: number;
  checked: number;
  first_failure: { seq: number; reason: string } | null;
}

export function AuditPage() {
  const [page, setPage] = useState(1);
  const [filters, setFilters] = useState<Record<string, string>>({});
  const [verify, setVerify] = useState<{ result?: Verification; error?: unknown; busy?: boolean }>({});
  const rows = useLoad(
    () =>
      list<any>("/api/v1/audit_events", {
        ...filters,
        page,
        page_size: 50,
        order_by: "seq",
        order_directions: "desc",
      }),
    [JSON.stringify(filters), page],
  );
  const runVerify = async () => {
    setVerify({ busy: true });
    try {
      setVerify({ result: await get<Verification>("/api/v1/audit_events/verify") });
    } catch (error) {
      setVerify({ error });
    }
  };
  const filter = (e: Event) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget as HTMLFormElement);
    const next: Record<string, string> = {};
    for (const k of ["event", "actor_name", "resource_type", "success"]) {
      const v = String(f.get(k) ?? "").trim();
      if (v) next[k] = v;
    }
    setFilters(next);
    setPage(1);
  };
  const r = verify.result;
  return (
    <>
      <h1>Audit log</h1>
      <Section
        title="Chain verification"
        actions={
          <button type="button" onClick={runVerify} disabled={verify.busy}>
            {verify.busy ? "Verifying…" : "Verify the chain"}
          </button>
        }
      >
        <ErrorBox error={verify.error} />
        {r && (
          <p role="status" class={r.verified ? "ok" : "error"} data-testid="verify-result">
            {r.verified ? "Verified" : "NOT verified"}: {r.message} ({r.checked} events, seq {r.from_seq}–
            {r.to_seq})
            {r.first_failure
              ? `; first failure at seq ${r.first_failure.seq}: ${r.first_failure.reason}`
              : ""}
          </p>
        )}
      </Section>
      <form class="filters" onSubmit={filter} aria-label="Filter audit events">
        <label>
          Event
          <input name="event" placeholder="node.updated" />
        </label>
        <label>
          Actor
          <input name="actor_name" />
        </label>
        <label>
          Resource type
          <input name="resource_type" />
        </label>
        <label>
          Outcome
          <select name="success">
            <option value="">any</option>
            <option value="true">succeeded</option>
            <option value="false">failed</option>
          </select>
        </label>
        <button type="submit">Filter</button>
      </form>
      <ErrorBox error={rows.error} />
      <Table caption="Audit events">
        <thead>
          <tr>
            <th>Seq</th>
            <th>When</th>
            <th>Event</th>
            <th>Actor</th>
            <th>Resource</th>
            <th>Outcome</th>
            <th>Request</th>
          </tr>
        </thead>
        <tbody>
          {rows.data?.data.map((a) => (
            <tr key={a.id}>
              <td>{a.seq}</td>
              <td>{when(a.occurred_at)}</td>
              <td>{a.event}</td>
              <td>
                {a.actor_name ?? a.actor_id ?? "—"} <small>({a.actor_type})</small>
              </td>
              <td>{[a.resource_type, a.resource_id].filter(Boolean).join(" ") || "—"}</td>
              <td>{a.success ? "ok" : `failed ${a.status_code ?? ""}`}</td>
              <td>
                <small>
                  {a.method} {a.path}
                </small>
              </td>
            </tr>
          ))}
        </tbody>
      </Table>
      <Pager pagination={rows.data?.pagination} onPage={setPage} />
    </>
  );
}
