import { useEffect, useLayoutEffect, useMemo, useRef, useState } from "preact/hooks";
import { useLocation } from "preact-iso";
import { get, list, withQuery } from "../api";
import { ErrorBox, Pager, Table } from "../components/common";
import { type FilterField, FilterForm } from "../components/filter-form";
import { firstLoadSettled, keptOnceAnswered, settledAfter, takeEarlyNodes } from "../first-load";
import { FILTERS, nodesRequest, pick, VIEW } from "../fleet-query";
import { useLoad } from "../hooks";
import { to } from "../paths";
import type { Node } from "../types";
import { type Latest, rowsHtml, writeLatest } from "./fleet-rows";

/** The User Timing mark of the fleet table's first rows (bench/lib/console-render.ts reads it). */
export const ROWS_MARK = "outpost:fleet-rows";

const SORTABLE: Record<string, string> = {
  Name: "node_name",
  Status: "status",
  Cluster: "cluster_name",
  Hostname: "hostname",
  "Agent version": "version",
  "Last seen": "last_seen_at",
};

const FIELDS: FilterField[] = [
  {
    name: "status",
    label: "Status",
    options: ["", "healthy", "unhealthy", "unreachable"].map((v) => [v, v || "any"] as const),
  },
  { name: "cluster_name", label: "Cluster" },
  { name: "tags", label: "Tags", placeholder: "web,env:prod" },
  { name: "hostname", label: "Hostname", placeholder: "web-*" },
  { name: "version", label: "Agent version" },
  { name: "platform", label: "Platform" },
];

interface Summary {
  total: number;
  online: number;
  offline: number;
  with_errors: number;
  pending_approval: number;
  by_status: Record<string, number>;
}

/**
 * Latest CPU/memory/disk of the rows on screen, a few requests at a time (there is no bulk route),
 * once the first load has settled; answers are applied together once a frame, not one re-render of
 * the table per node.
 */
function useLatest(nodes: Node[] | undefined): Record<string, Latest> {
  const [latest, setLatest] = useState<Record<string, Latest>>({});
  useEffect(() => {
    if (!nodes?.length) return;
    let live = true;
    let pending: Record<string, Latest> = {};
    let frame = 0;
    const flush = () => {
      frame = 0;
      const batch = pending;
      pending = {};
      if (live) setLatest((prev) => ({ ...prev, ...batch }));
    };
    const queue = nodes.filter((n) => n.status !== "unreachable").map((n) => n.id);
    const worker = async () => {
      for (let id = queue.shift(); id && live; id = queue.shift()) {
        const m = await get<any>(`/api/v1/nodes/${id}/metrics`).catch(() => null);
        const host = m?.host;
        if (!live || !host?.available) continue;
        pending[id] = {
          cpu: host.cpu?.usage_percent,
          memory: host.memory?.usage_percent,
          disk: host.disk?.usage_percent,
        };
        frame ||= requestAnimationFrame(flush);
      }
    };
    void firstLoadSettled().then(() => {
      for (let i = 0; i < 4; i++) void worker();
    });
    return () => {
      live = false;
      if (frame) cancelAnimationFrame(frame);
    };
  }, [nodes]);
  return latest;
}

export function FleetPage() {
  const { query, route, path } = useLocation();
  const view = pick(query, VIEW);
  const filters = pick(query, FILTERS);
  const key = JSON.stringify(view);
  // The nodes request first, sent as the page is created rather than from an effect (a painted frame
  // later): the one first-load.ts sent at load when this page was the one opened, or its own on a
  // visit from another page (`keptOnceAnswered`). The summary counts wait for its answer, so they do not compete with it.
  const [first] = useState(
    () => takeEarlyNodes(nodesRequest(view)) ?? keptOnceAnswered(list<Node>(nodesRequest(view))),
  );
  const nodes = useLoad(() => list<Node>(nodesRequest(view)), [key], first);
  const summary = useLoad(
    () => settledAfter(first.answer).then(() => get<Summary>("/api/v1/nodes/summary", filters)),
    [JSON.stringify(filters)],
  );
  const latest = useLatest(nodes.data?.data);
  // The rows' HTML changes with the answer only; each metrics answer is written into its cells.
  const latestNow = useRef(latest);
  latestNow.current = latest;
  const rows = useMemo(() => (nodes.data ? rowsHtml(nodes.data.data, latestNow.current) : ""), [nodes.data]);
  const body = useRef<HTMLTableSectionElement>(null);
  useLayoutEffect(() => {
    if (body.current) writeLatest(body.current, latest);
  }, [latest]);
  // A User Timing mark the moment the first rows are in the DOM (before paint): what the fleet render
  // benchmark (bench/lib/console-render.ts) reads, and what a browser's performance panel shows.
  const marked = useRef(false);
  useLayoutEffect(() => {
    if (marked.current || !nodes.data?.data.length) return;
    marked.current = true;
    performance.mark(ROWS_MARK, { detail: { rows: nodes.data.data.length } });
  }, [nodes.data]);
  const onRowsClick = (event: MouseEvent) => {
    const tag = (event.target as Element | null)?.closest<HTMLElement>("button[data-tag]")?.dataset.tag;
    if (tag) setView({ tags: tag });
  };

  const setView = (changes: Record<string, string | undefined>) => {
    const next: Record<string, string | undefined> = { ...view, ...changes };
    if (!("page" in changes)) delete next.page;
    route(withQuery(path, next), true);
  };

  const sortBy = (field: string) => {
    const dir = view.order_by === field && view.order_directions !== "desc" ? "desc" : "asc";
    setView({ order_by: field, order_directions: dir });
  };

  const applyFilters = (values: Record<string, string>) => {
    const changes: Record<string, string | undefined> = {};
    for (const k of FILTERS) changes[k] = values[k];
    setView(changes);
  };

  const s = summary.data;
  return (
    <>
      <h1>Fleet</h1>
      <ul class="stats" aria-label="Fleet summary">
        <li>
          <span>Total</span>
          <strong>{s?.total ?? "…"}</strong>
        </li>
        <li>
          <span>Online</span>
          <strong>{s?.online ?? "…"}</strong>
        </li>
        <li>
          <span>Offline</span>
          <strong>{s?.offline ?? "…"}</strong>
        </li>
        <li>
          <span>Healthy</span>
          <strong>{s?.by_status?.healthy ?? "…"}</strong>
        </li>
        <li>
          <span>Unhealthy</span>
          <strong>{s?.by_status?.unhealthy ?? "…"}</strong>
        </li>
        <li>
          <span>With errors</span>
          <strong>{s?.with_errors ?? "…"}</strong>
        </li>
        <li>
          <span>Pending approval</span>
          <strong>{s?.pending_approval ?? "…"}</strong>
        </li>
      </ul>
      <ErrorBox error={summary.error} />

      {/* Uncontrolled fields, re-created when the URL's view changes (a re-render keeps what is typed). */}
      <FilterForm label="Filter nodes" fields={FIELDS} values={view} onFilter={applyFilters} key={key} />

      <ErrorBox error={nodes.error} />
      <p>
        <a href={withQuery(to("/run"), pick(filters, ["tags", "hostname", "status", "cluster_name"]))}>
          Run a command on {Object.keys(filters).length ? "these nodes" : "all nodes"}
        </a>
      </p>
      <Table caption="Nodes">
        <thead>
          <tr>
            {[
              "Name",
              "Status",
              "Cluster",
              "Tags",
              "Hostname",
              "OS",
              "Agent version",
              "CPU",
              "Memory",
              "Disk",
              "Last seen",
            ].map((col) => {
              const field = SORTABLE[col];
              if (!field) return <th key={col}>{col}</th>;
              const active = view.order_by === field;
              const sort = active ? (view.order_directions === "desc" ? "descending" : "ascending") : "none";
              return (
                <th key={col} aria-sort={sort}>
                  <button type="button" class="sort" onClick={() => sortBy(field)}>
                    {col}
                    {active ? (sort === "descending" ? " ▼" : " ▲") : ""}
                  </button>
                </th>
              );
            })}
          </tr>
        </thead>
        {/* The rows are one innerHTML (fleet-rows.ts); a click on a tag button filters by its tag. */}
        {/* biome-ignore lint/a11y/useKeyWithClickEvents: the clicks come from the rows' own buttons, which Enter and Space click. */}
        <tbody
          ref={body}
          aria-busy={nodes.loading}
          onClick={onRowsClick}
          dangerouslySetInnerHTML={{ __html: rows }}
        />
      </Table>
      <Pager pagination={nodes.data?.pagination} onPage={(page) => setView({ page: String(page) })} />
    </>
  );
}
