import { DEFAULT_PAGE_SIZE, ListQueryError, MAX_PAGE_SIZE, type Pagination, paginate } from "./engine";

/**
 * The list engine over an array already in memory (an agent's answer, not a table): the same
 * parameters as `parseListQuery` — filters with `*` wildcards, `order_by`/`order_directions`,
 * `page`/`page_size` — and the same errors and pagination block.
 */
export interface MemoryListSpec<T> {
  /** Text filters: the item's value for the parameter (wildcards, case-insensitive). */
  filters: Record<string, (item: T) => string>;
  sortable: Record<string, (item: T) => number | string>;
  defaultOrder: { field: string; direction: "asc" | "desc" };
  /** Unique key appended to every sort, so pages are stable. */
  tieBreaker: (item: T) => number | string;
}

export interface MemoryListQuery {
  filters: Record<string, string>;
  order: { field: string; direction: "asc" | "desc" }[];
  page: number;
  pageSize: number;
}

const PAGING = ["order_by", "order_directions", "page", "page_size"];

function positive(raw: string | null, fallback: number, max: number, add: (m: string) => void): number {
  if (raw === null) return fallback;
  if (!/^\d{1,10}$/.test(raw) || Number(raw) < 1) {
    add("must be a positive integer");
    return fallback;
  }
  if (Number(raw) > max) {
    add(`must be at most ${max}`);
    return fallback;
  }
  return Number(raw);
}

/**
 * Parses a list query for an in-memory list; unknown, repeated or malformed parameters raise
 * `ListQueryError` naming each.
 * @example parseMemoryQuery(new URLSearchParams("name=ngin*&order_by=cpu_percent"), processListSpec)
 */
export function parseMemoryQuery<T>(params: URLSearchParams, spec: MemoryListSpec<T>): MemoryListQuery {
  const details: Record<string, string[]> = Object.create(null);
  const add = (key: string) => (msg: string) => {
    details[key] ??= [];
    details[key].push(msg);
  };
  const allowed = [...Object.keys(spec.filters), ...PAGING];
  const seen = new Set<string>();
  for (const key of params.keys()) {
    if (seen.has(key)) add(key)("must be given at most once");
    seen.add(key);
    if (!allowed.includes(key)) add(key)(`unknown parameter; allowed: ${allowed.join(", ")}`);
  }
  const filters: Record<string, string> = {};
  for (const name of Object.keys(spec.filters)) {
    const raw = params.get(name);
    if (raw !== null) filters[name] = raw;
  }
  const sortable = Object.keys(spec.sortable);
  const fields =
    params
      .get("order_by")
      ?.split(",")
      .map((f) => f.trim()) ?? [];
  const directions =
    params
      .get("order_directions")
      ?.split(",")
      .map((d) => d.trim().toLowerCase()) ?? [];
  for (const f of fields)
    if (!sortable.includes(f)) add("order_by")(`cannot sort by "${f}"; allowed: ${sortable.join(", ")}`);
  for (const d of directions)
    if (d !== "asc" && d !== "desc") add("order_directions")(`"${d}" is not asc or desc`);
  if (directions.length > Math.max(fields.length, 1))
    add("order_directions")("has more entries than order_by");
  const order =
    fields.length > 0
      ? fields.map((field, i) => ({ field, direction: (directions[i] ?? "asc") as "asc" | "desc" }))
      : [
          {
            field: spec.defaultOrder.field,
            direction: (directions[0] ?? spec.defaultOrder.direction) as "asc" | "desc",
          },
        ];
  const pageSize = positive(params.get("page_size"), DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, add("page_size"));
  const page = positive(params.get("page"), 1, 1_000_000_000, add("page"));
  if (Object.keys(details).length > 0) throw new ListQueryError(details);
  return { filters, order, page, pageSize };
}

/** `*` matches any run of characters; without `*`, an exact match; case-insensitive either way. */
export function wildcardMatch(pattern: string, value: string): boolean {
  const body = pattern
    .toLowerCase()
    .split("*")
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
    .join(".*");
  return new RegExp(`^${body}$`, "s").test(value.toLowerCase());
}

function compare(a: number | string, b: number | string): number {
  if (typeof a === "number" && typeof b === "number") return a - b;
  return String(a).localeCompare(String(b));
}

/** Filters, sorts and pages `items`; the pagination block is the contract's. */
export function applyMemoryQuery<T>(
  items: readonly T[],
  spec: MemoryListSpec<T>,
  q: MemoryListQuery,
): { data: T[]; pagination: Pagination } {
  const kept = items.filter((item) =>
    Object.entries(q.filters).every(([name, pattern]) => {
      const read = spec.filters[name];
      return read ? wildcardMatch(pattern, read(item)) : true;
    }),
  );
  const keys = [...q.order, { field: "", direction: q.order[q.order.length - 1]?.direction ?? "asc" }];
  kept.sort((a, b) => {
    for (const { field, direction } of keys) {
      const read = field ? spec.sortable[field] : spec.tieBreaker;
      const c = compare(read(a), read(b));
      if (c !== 0) return direction === "desc" ? -c : c;
    }
    return 0;
  });
  const start = (q.page - 1) * q.pageSize;
  return {
    data: kept.slice(start, start + q.pageSize),
    pagination: paginate(kept.length, q.page, q.pageSize),
  };
}
