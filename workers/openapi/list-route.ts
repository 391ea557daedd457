import type { Database } from "../../src/db/client";
import type { ListQuery } from "../../src/list-query/engine";
import type { Page } from "../../src/list-query/page";
import type { AppContext } from "../middleware/request-context";
import type { ListResult } from "./route-types";

/** Where a list route's rows come from and how they are shown. */
export interface ListRouteParts<Row, Item, Params> {
  /** The resource's store query for one page (scoped by the path params when it has any). */
  page(db: Database, q: ListQuery, params: Params): Promise<Page<Row>>;
  /** The resource's presenter, over the whole page at once (so it can batch its lookups). */
  present(rows: Row[], c: AppContext): Item[] | Promise<Item[]>;
}

/**
 * The handler of a list operation: reads one page through the store, presents it, and hands
 * `defineRoute` the items with their pagination. The item type is checked against the spec's
 * documented schema where the handler is passed to `defineRoute`.
 * @example defineRoute(app, { …, list: clusterListSpec, success: { …, paginated: true } },
 *   listRoute({ page: listClusters, present: (rows, c) => presentClusters(c.get("db"), rows) }))
 */
export function listRoute<Row, Item, Params = unknown>(parts: ListRouteParts<Row, Item, Params>) {
  return async (c: AppContext, input: { params: Params; list: ListQuery }): Promise<ListResult<Item>> => {
    const { rows, pagination } = await parts.page(c.get("db"), input.list, input.params);
    return { data: await parts.present(rows, c), pagination };
  };
}
