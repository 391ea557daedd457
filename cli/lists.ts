// The list engine's query parameters as command-line flags: `cluster_name` is `--cluster-name`,
// `pending_updates__gte` is `--pending-updates-gte`; `--sort` and paging are shared by every list.
import type { Command } from "commander";

// `--version` is the program's own flag; the node lists' `version` filter is the agent's.
const RENAMED: Record<string, string> = { version: "agent-version" };

/** `cluster_name` → `cluster-name`, `last_seen_at__gte` → `last-seen-at-gte`, `version` → `agent-version`. */
export function flagName(filter: string): string {
  return RENAMED[filter] ?? filter.replaceAll("__", "-").replaceAll("_", "-");
}

// commander's camelCase for a flag: `cluster-name` → `clusterName`.
function optionKey(filter: string): string {
  return flagName(filter).replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** Declares one `--<filter> <value>` flag per filter. */
export function addFilterFlags(command: Command, filters: Record<string, string>): Command {
  for (const [filter, description] of Object.entries(filters)) {
    command.option(`--${flagName(filter)} <value>`, description);
  }
  return command;
}

/** Declares `--sort`, `--page`, `--page-size` and `--all`. */
export function addPagingFlags(command: Command): Command {
  return command
    .option(
      "--sort <fields>",
      "sort by fields, each optionally :asc or :desc (e.g. status,last_seen_at:desc)",
    )
    .option("--page <n>", "page number (1-indexed)")
    .option("--page-size <n>", "rows per page (at most 100)")
    .option("--all", "fetch every page");
}

/** The query parameters the flags set (filters, sorting, paging), as the API spells them. */
export function listQuery(options: Record<string, unknown>, filters: Record<string, string>) {
  const query: Record<string, string> = {};
  for (const filter of Object.keys(filters)) {
    const value = options[optionKey(filter)];
    if (typeof value === "string") query[filter] = value;
  }
  if (typeof options.sort === "string") {
    const parts = options.sort.split(",").map((p) => p.trim().split(":"));
    query.order_by = parts.map(([field]) => field).join(",");
    query.order_directions = parts.map(([, dir]) => dir || "asc").join(",");
  }
  if (typeof options.page === "string") query.page = options.page;
  if (typeof options.pageSize === "string") query.page_size = options.pageSize;
  return query;
}

interface Page<T> {
  data: T[];
  meta: { pagination: { has_next: boolean; total_count: number } };
}

/** One page, or with `all` every page from the first (100 rows at a time). */
export async function collect<T>(
  fetchPage: (query: Record<string, string>) => Promise<Page<T>>,
  query: Record<string, string>,
  all: boolean,
): Promise<{ rows: T[]; total: number }> {
  if (!all) {
    const page = await fetchPage(query);
    return { rows: page.data, total: page.meta.pagination.total_count };
  }
  const rows: T[] = [];
  for (let n = 1; ; n++) {
    const page = await fetchPage({ ...query, page: String(n), page_size: "100" });
    rows.push(...page.data);
    if (!page.meta.pagination.has_next) return { rows, total: page.meta.pagination.total_count };
  }
}
