// The fleet table's rows as one HTML string, set with one innerHTML: the browser's parser builds the
// 100 rows (some 1,500 elements) in one native pass, where a virtual DOM creates and inserts each
// element from script — on a loaded machine the difference is tens of milliseconds between the nodes
// answer and the rows on screen (the fleet render benchmark, bench/lib/console-render.ts). The rows
// carry no handlers: the page listens on the table body (tag buttons by `data-tag`), links are plain
// anchors the router already intercepts, and the latest CPU/memory/disk are written into their cells
// afterwards (`writeLatest`), so a metrics answer does not rebuild the rows or move the focus.
import { pct, when } from "../components/common";
import { to } from "../paths";
import type { Node } from "../types";

export interface Latest {
  cpu?: number;
  memory?: number;
  disk?: number;
}

/** The metric columns, in table order, by the `data-metric` of their cells. */
const METRICS = ["cpu", "memory", "disk"] as const;

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Text or an attribute value, safe inside HTML (every value from the API goes through it). */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => ESCAPES[c] as string);
}

function row(n: Node, latest: Latest | undefined): string {
  const name = n.display_name || n.hostname || n.node_name;
  const os = [n.os_version, n.arch].filter(Boolean).join(" ") || n.platform || "—";
  const tags = n.tags
    .map(
      (t) =>
        `<button type="button" class="tag" data-tag="${escapeHtml(t)}" title="Only nodes tagged ${escapeHtml(t)}">${escapeHtml(t)}</button>`,
    )
    .join("");
  const status = n.status ?? "unknown";
  const metrics = METRICS.map((m) => `<td data-metric="${m}">${pct(latest?.[m])}</td>`).join("");
  return (
    `<tr data-id="${escapeHtml(n.id)}">` +
    `<td><a href="${escapeHtml(to(`/nodes/${encodeURIComponent(n.id)}`))}">${escapeHtml(name)}</a></td>` +
    `<td><span class="badge badge-${escapeHtml(status)}">${escapeHtml(n.status ?? "—")}</span></td>` +
    `<td>${escapeHtml(n.cluster_name ?? "")}</td>` +
    `<td>${tags}</td>` +
    `<td>${escapeHtml(n.hostname ?? "—")}</td>` +
    `<td>${escapeHtml(os)}</td>` +
    `<td>${escapeHtml(n.version ?? "—")}</td>` +
    metrics +
    `<td>${escapeHtml(when(n.last_seen_at))}</td>` +
    "</tr>"
  );
}

/** The table body's HTML for these nodes (the columns of the page's header row). */
export function rowsHtml(nodes: Node[], latest: Record<string, Latest> = {}, columns = 11): string {
  if (!nodes.length) return `<tr><td colspan="${columns}">No node matches.</td></tr>`;
  let html = "";
  for (const n of nodes) html += row(n, latest[n.id]);
  return html;
}

/** Writes the latest CPU/memory/disk into the rows' metric cells (only the cells whose text changes). */
export function writeLatest(body: HTMLTableSectionElement, latest: Record<string, Latest>): void {
  for (const tr of body.rows) {
    const values = latest[tr.dataset.id ?? ""];
    if (!values) continue;
    for (const cell of tr.querySelectorAll<HTMLTableCellElement>("td[data-metric]")) {
      const text = pct(values[cell.dataset.metric as (typeof METRICS)[number]]);
      if (cell.textContent !== text) cell.textContent = text;
    }
  }
}
