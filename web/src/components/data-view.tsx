import { Table } from "./common";

function cell(value: unknown): string {
  if (value === null || value === undefined) return "—";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

/**
 * Shows an inventory section as the agent reported it: a list of records as a table, an object as
 * a definition list whose array members become tables of their own.
 */
export function SectionData({ data, label }: { data: unknown; label: string }) {
  if (Array.isArray(data)) {
    if (data.length === 0) return <p>None reported.</p>;
    if (typeof data[0] !== "object" || data[0] === null) return <p>{data.map(cell).join(", ")}</p>;
    const columns = [...new Set(data.slice(0, 50).flatMap((row) => Object.keys(row as object)))];
    return (
      <Table caption={label}>
        <thead>
          <tr>
            {columns.map((c) => (
              <th key={c}>{c}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {data.slice(0, 500).map((row, i) => (
            <tr key={i}>
              {columns.map((c) => (
                <td key={c}>{cell((row as Record<string, unknown>)[c])}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </Table>
    );
  }
  if (data && typeof data === "object") {
    const entries = Object.entries(data as Record<string, unknown>);
    const scalars = entries.filter(([, v]) => !Array.isArray(v));
    const lists = entries.filter(([, v]) => Array.isArray(v));
    return (
      <>
        {scalars.length > 0 && (
          <dl class="facts">
            {scalars.map(([k, v]) => (
              <div key={k}>
                <dt>{k}</dt>
                <dd>{cell(v)}</dd>
              </div>
            ))}
          </dl>
        )}
        {lists.map(([k, v]) => (
          <div key={k}>
            <h3>{k}</h3>
            <SectionData data={v} label={`${label}: ${k}`} />
          </div>
        ))}
      </>
    );
  }
  return <p>{cell(data)}</p>;
}
