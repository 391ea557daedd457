import type { operations } from "./api-types";
import { type ApiClient, ok } from "./client";
import { CliError } from "./errors";

/** A node as the API answers it. */
export type Node = operations["get_nodes_id"]["responses"][200]["content"]["application/json"]["data"];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A node named by its id or by its hostname (which must then match exactly one node). */
export async function findNode(api: ApiClient, ref: string): Promise<Node> {
  if (UUID.test(ref)) {
    return ok(await api.GET("/api/v1/nodes/{id}", { params: { path: { id: ref.toLowerCase() } } })).data;
  }
  const page = ok(await api.GET("/api/v1/nodes", { params: { query: { hostname: ref, page_size: 10 } } }));
  if (page.data.length === 1) return page.data[0] as Node;
  if (page.data.length === 0) throw new CliError(`no node has the id or hostname '${ref}'`);
  const ids = page.data.map((n) => `${n.id} (${n.cluster_name})`).join(", ");
  throw new CliError(`'${ref}' matches ${page.meta.pagination.total_count} nodes; name one by id: ${ids}`);
}

/** The hostname to show for a node id (its display name, else hostname, else the short id). */
export function nodeLabel(node: Pick<Node, "id" | "hostname" | "display_name">): string {
  return node.display_name || node.hostname || node.id.slice(0, 8);
}
