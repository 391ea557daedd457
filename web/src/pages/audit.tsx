import { useState } from "preact/hooks";
import { get, list } from "../api";
import { ErrorBox, Pager, Section, Table, when } from "../components/common";
import { type FilterField, FilterForm } from "../components/filter-form";
import { useLoad } from "../hooks";

const FIELDS: FilterField[] = [
  { name: "event", label: "Event", placeholder: "node.updated" },
  { name: "actor_name", label: "Actor" },
  { name: "resource_type", label: "Resource type" },
  {
    name: "success",
    label: "Outcome",
    options: [
      ["", "any"],
      ["true", "succeeded"],
      ["false", "failed"],
    ],
  },
];

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
      <FilterForm
        label="Filter audit events"
        fields={FIELDS}
        onFilter={(next) => {
          setFilters(next);
          setPage(1);
        }}
      />
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
