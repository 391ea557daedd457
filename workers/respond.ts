import type { Pagination } from "../src/list-query/engine";
import type { AppContext } from "./middleware/request-context";
import { responseMeta } from "./middleware/request-context";

/** `{data, meta}` with the given status. */
export function respond(c: AppContext, data: unknown, status: 200 | 201 | 202 = 200): Response {
  return c.json({ data, meta: responseMeta(c) }, status);
}

/** `{data: [...], meta: {pagination, …}}`. */
export function respondList(c: AppContext, data: unknown[], pagination: Pagination): Response {
  return c.json({ data, meta: { ...responseMeta(c), pagination } }, 200);
}

/** 204 with no body. */
export function respondNoContent(c: AppContext): Response {
  return c.body(null, 204);
}
