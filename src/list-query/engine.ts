import { and, type SQL, sql } from "drizzle-orm";
import type { FilterDef } from "./filters";

/** The field table of one list endpoint. */
export interface ListSpec {
  filters: Record<string, FilterDef>;
  /** `order_by` names → sort expression. */
  sortable: Record<string, SQL>;
  /** Sort when the client gives none. */
  defaultOrder: { field: string; direction: "asc" | "desc" }[];
  /** Unique expression appended to every sort so pages are stable. */
  tieBreaker: SQL;
}

export interface ListQuery {
  where: SQL | undefined;
  orderBy: SQL[];
  page: number;
  pageSize: number;
  limit: number;
  offset: number;
}

/** The contract's `Pagination` object. */
export interface Pagination {
  has_next: boolean;
  has_prev: boolean;
  next_page: number | null;
  page: number;
  page_size: number;
  prev_page: number | null;
  total_count: number;
  total_pages: number;
}

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;
const MAX_PAGE = 1_000_000_000;
const PAGING_PARAMS = ["order_by", "order_directions", "page", "page_size"];

/** Thrown for bad query parameters; `details` names each parameter. */
export class ListQueryError extends Error {
  constructor(readonly details: Record<string, string[]>) {
    super("Invalid request parameters");
  }
}

function positiveInt(
  raw: string | undefined,
  fallback: number,
  max: number,
  add: (msg: string) => void,
): number {
  if (raw === undefined) return fallback;
  if (!/^\d{1,10}$/.test(raw) || Number(raw) < 1) {
    add("must be a positive integer");
    return fallback;
  }
  const n = Number(raw);
  if (n > max) {
    add(`must be at most ${max}`);
    return fallback;
  }
  return n;
}

/**
 * Parses list query parameters against a field table: filters, sorting and
 * paging. Unknown, repeated or malformed parameters raise `ListQueryError`.
 * @example const q = await parseListQuery(new URL(req.url).searchParams, clusterListSpec)
 */
export async function parseListQuery(params: URLSearchParams, spec: ListSpec): Promise<ListQuery> {
  // No prototype: a parameter named `__proto__` or `constructor` must be just another key.
  const details: Record<string, string[]> = Object.create(null);
  const add = (key: string) => (msg: string) => {
    details[key] ??= [];
    details[key].push(msg);
  };
  const allowed = [...Object.keys(spec.filters), ...PAGING_PARAMS];
  const seen = new Set<string>();
  for (const key of params.keys()) {
    if (seen.has(key)) {
      if (!details[key]) add(key)("must be given at most once");
      continue;
    }
    seen.add(key);
    if (!allowed.includes(key)) add(key)(`unknown parameter; allowed: ${allowed.join(", ")}`);
  }

  // Parsed first, then turned into SQL with every parsed value at hand: a filter that qualifies
  // another one (package_version narrows package to the same row) reads its partner's value.
  const values = new Map<string, unknown>();
  for (const [name, filter] of Object.entries(spec.filters)) {
    const raw = params.get(name);
    if (raw === null) continue;
    const parsed = filter.parse(raw);
    if ("error" in parsed) add(name)(parsed.error);
    else values.set(name, parsed.value);
  }
  const conditions: SQL[] = [];
  for (const [name, value] of values) {
    const filter = spec.filters[name];
    if (filter) conditions.push(await filter.toSql(value, values));
  }

  const pageSize = positiveInt(
    params.get("page_size") ?? undefined,
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    add("page_size"),
  );
  const page = positiveInt(params.get("page") ?? undefined, 1, MAX_PAGE, add("page"));
  const orderBy = parseOrder(params, spec, add);

  if (Object.keys(details).length > 0) throw new ListQueryError(details);
  return {
    where: conditions.length > 0 ? and(...conditions) : undefined,
    orderBy,
    page,
    pageSize,
    limit: pageSize,
    offset: (page - 1) * pageSize,
  };
}

function parseOrder(
  params: URLSearchParams,
  spec: ListSpec,
  add: (key: string) => (msg: string) => void,
): SQL[] {
  const rawFields = params.get("order_by");
  const rawDirections = params.get("order_directions");
  const sortable = Object.keys(spec.sortable);
  const fields = rawFields === null ? [] : rawFields.split(",").map((f) => f.trim());
  const directions =
    rawDirections === null ? [] : rawDirections.split(",").map((d) => d.trim().toLowerCase());
  for (const f of fields) {
    if (!sortable.includes(f)) add("order_by")(`cannot sort by "${f}"; allowed: ${sortable.join(", ")}`);
  }
  for (const d of directions) {
    if (d !== "asc" && d !== "desc") add("order_directions")(`"${d}" is not asc or desc`);
  }
  if (directions.length > Math.max(fields.length, rawFields === null ? 0 : 1)) {
    add("order_directions")("has more entries than order_by");
  }
  const order =
    fields.length > 0
      ? fields.map((field, i) => ({ field, direction: (directions[i] ?? "asc") as "asc" | "desc" }))
      : spec.defaultOrder.map((o, i) => ({
          field: o.field,
          direction: (directions[i] as "asc" | "desc") ?? o.direction,
        }));
  const clauses = order
    .filter((o) => spec.sortable[o.field])
    .map((o) =>
      o.direction === "desc" ? sql`${spec.sortable[o.field]} DESC` : sql`${spec.sortable[o.field]} ASC`,
    );
  const lastDesc = order.length > 0 && order[order.length - 1].direction === "desc";
  clauses.push(lastDesc ? sql`${spec.tieBreaker} DESC` : sql`${spec.tieBreaker} ASC`);
  return clauses;
}

/** Builds the contract's pagination block. */
export function paginate(total: number, page: number, pageSize: number): Pagination {
  const totalPages = Math.ceil(total / pageSize);
  const hasNext = page < totalPages;
  const hasPrev = page > 1;
  return {
    has_next: hasNext,
    has_prev: hasPrev,
    next_page: hasNext ? page + 1 : null,
    page,
    page_size: pageSize,
    prev_page: hasPrev ? page - 1 : null,
    total_count: total,
    total_pages: totalPages,
  };
}
