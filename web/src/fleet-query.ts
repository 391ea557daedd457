// The fleet page's view as URL query parameters (the list engine's own names, so a view can be
// shared), and the one nodes request a view makes. Kept apart from the page so that first-load.ts can
// start that request before the page's code has run.
import { type Query, withQuery } from "./api";

export const FILTERS = ["status", "cluster_name", "tags", "hostname", "version", "platform"] as const;
export const VIEW = [...FILTERS, "order_by", "order_directions", "page", "page_size"] as const;
const DEFAULT_PAGE_SIZE = 25;

export function pick(query: Record<string, string>, keys: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of keys) if (query[k]) out[k] = query[k];
  return out;
}

/** The nodes list request of a view (path and query string). */
export function nodesRequest(view: Query): string {
  return withQuery("/api/v1/nodes", { page_size: DEFAULT_PAGE_SIZE, ...view });
}
