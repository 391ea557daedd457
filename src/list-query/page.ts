import type { SQL } from "drizzle-orm";
import type { Database } from "../db/client";
import { type ListQuery, type Pagination, paginate } from "./engine";

/** A select (rows or count) still open for its `where`, as drizzle's builders are. */
interface Filterable<T> {
  where(where: SQL | undefined): T;
}

interface Pageable<Page> {
  orderBy(...columns: SQL[]): { limit(limit: number): { offset(offset: number): Page } };
}

/** One page of rows and the contract's pagination block. */
export interface Page<Row> {
  rows: Row[];
  pagination: Pagination;
}

/**
 * One page of a list endpoint: the rows (filtered, sorted, paged by `q`) and their total, read in
 * one libSQL round trip (a batch, so one snapshot) instead of two requests.
 * @example const { rows, pagination } = await listPage(db, q, db.select().from(t), db.select({ total: count() }).from(t))
 */
export async function listPage<Row>(
  db: Database,
  q: ListQuery,
  rows: Filterable<Pageable<PromiseLike<Row[]>>>,
  total: Filterable<PromiseLike<{ total: number }[]>>,
  where: SQL | undefined = q.where,
): Promise<Page<Row>> {
  const page = rows
    .where(where)
    .orderBy(...q.orderBy)
    .limit(q.limit)
    .offset(q.offset);
  // drizzle types batch() by its builder classes; these are those builders behind the two interfaces.
  const [found, counted] = (await db.batch([page, total.where(where)] as never)) as [
    Row[],
    { total: number }[],
  ];
  return { rows: found, pagination: paginate(counted[0]?.total ?? 0, q.page, q.pageSize) };
}
