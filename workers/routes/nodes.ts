import { count, eq, sql } from "drizzle-orm";
import type { Hono } from "hono";
import * as v from "valibot";
import { clusters, nodes } from "../../src/db/schema";
import { cancelForDeletedNode } from "../../src/executions/lifecycle";
import type { ListSpec } from "../../src/list-query/engine";
import { booleanFilter, enumFilter, rangeFilters, textFilter } from "../../src/list-query/filters";
import { DateTimeOutput, UuidOutput, UuidParam } from "../../src/schemas/common";
import { ApiError } from "../errors";
import type { AppEnv } from "../middleware/request-context";
import { defineRoute } from "../openapi/define-route";
import { respond, respondList, respondNoContent } from "../respond";
import { changeNodeCluster } from "../services/change-cluster";
import { listPage } from "../services/list-page";
import { nodeSession } from "../services/node-sessions";
import { getNode, presentNode, selectNodes, toNodeRow } from "../services/nodes";
import { ClusterName } from "./clusters";

const TAG = "Nodes.Node";

export const NodeResponseSchema = v.pipe(
  v.object({
    api_token: v.string(),
    cluster_name: v.string(),
    host_metrics_port: v.number(),
    http_port: v.number(),
    http_proxy_port: v.number(),
    id: UuidOutput,
    id_type: v.picklist(["persistent", "random"]),
    inserted_at: DateTimeOutput,
    ipv4_address: v.nullable(v.string()),
    last_seen_at: v.nullable(DateTimeOutput),
    mdns_hostname: v.string(),
    netmaker_host_id: v.nullable(v.string()),
    node_name: v.string(),
    proxy_password: v.string(),
    self_update_enabled: v.boolean(),
    socks5_proxy_port: v.number(),
    ssh_port: v.number(),
    status: v.picklist(["healthy", "unhealthy", "unreachable"]),
    updated_at: DateTimeOutput,
    version: v.nullable(v.string()),
    vpn_hostname: v.string(),
    wireguard_metrics_port: v.number(),
  }),
  v.title("NodeResponse"),
);

/** The node list's field table; command targeting reuses its filters. */
export const listSpec: ListSpec = {
  filters: {
    cluster_name: textFilter(
      sql`${clusters.name}`,
      "Filter by cluster name (exact match or wildcard: prod*, *east)",
    ),
    id_type: enumFilter(sql`${nodes.idType}`, ["persistent", "random"], "Filter by node ID type"),
    status: enumFilter(
      sql`${nodes.status}`,
      ["healthy", "unhealthy", "unreachable"],
      "Filter by node status",
    ),
    version: textFilter(
      sql`${nodes.version}`,
      "Filter by agent version (exact match or wildcard: 1.0.0, 1.*)",
    ),
    self_update_enabled: booleanFilter(
      "Filter by self-update enabled status",
      (on) => sql`${nodes.selfUpdateEnabled} = ${on ? 1 : 0}`,
    ),
    ...rangeFilters("inserted_at", sql`${nodes.insertedAt}`, "datetime"),
    ...rangeFilters("updated_at", sql`${nodes.updatedAt}`, "datetime"),
    ...rangeFilters("last_seen_at", sql`${nodes.lastSeenAt}`, "datetime"),
  },
  sortable: {
    inserted_at: sql`${nodes.insertedAt}`,
    updated_at: sql`${nodes.updatedAt}`,
    last_seen_at: sql`${nodes.lastSeenAt}`,
    status: sql`${nodes.status}`,
    version: sql`${nodes.version}`,
    cluster_name: sql`${clusters.name}`,
    id_type: sql`${nodes.idType}`,
    node_name: sql`${nodes.nodeName}`,
  },
  defaultOrder: [{ field: "inserted_at", direction: "asc" }],
  tieBreaker: sql`${nodes.id}`,
};

const idParam = { id: { schema: UuidParam, description: "Node ID" } };
const single = (description: string) => ({ status: 200 as const, description, data: NodeResponseSchema });

/** Registers `/api/v1/nodes` (seed: Nodes.Node). */
export function registerNodeRoutes(app: Hono<AppEnv>): void {
  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/nodes",
      tag: TAG,
      summary: "List all nodes",
      list: listSpec,
      success: {
        status: 200,
        description: "Paginated list of nodes",
        data: NodeResponseSchema,
        paginated: true,
      },
    },
    async (c, { list }) => {
      const db = c.get("db");
      const q = list!;
      const { rows, pagination } = await listPage(
        db,
        q,
        selectNodes(db),
        db.select({ total: count() }).from(nodes).innerJoin(clusters, eq(clusters.id, nodes.clusterId)),
      );
      const data = await Promise.all(rows.map((r) => presentNode(toNodeRow(r), c.get("config"))));
      return respondList(c, data, pagination);
    },
  );

  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/nodes/{id}",
      tag: TAG,
      summary: "Get a specific node",
      params: idParam,
      success: single("The node"),
      errors: [404],
    },
    async (c, { params }) =>
      respond(c, await presentNode(await getNode(c.get("db"), params.id), c.get("config"))),
  );

  defineRoute(
    app,
    {
      method: "patch",
      path: "/api/v1/nodes/{id}",
      tag: TAG,
      summary: "Update a node",
      description: "Settable fields: `self_update_enabled`.",
      params: idParam,
      body: v.pipe(
        v.strictObject({ self_update_enabled: v.optional(v.boolean("must be true or false")) }),
        v.title("NodeUpdateRequest"),
      ),
      success: single("The updated node"),
      errors: [404, 422, 503],
    },
    async (c, { params, body }) => {
      const db = c.get("db");
      await getNode(db, params.id);
      if (body.self_update_enabled !== undefined) {
        await db
          .update(nodes)
          .set({ selfUpdateEnabled: body.self_update_enabled, updatedAt: Date.now() })
          .where(eq(nodes.id, params.id));
      }
      return respond(c, await presentNode(await getNode(db, params.id), c.get("config")));
    },
  );

  defineRoute(
    app,
    {
      method: "delete",
      path: "/api/v1/nodes/{id}",
      tag: TAG,
      summary: "Delete a node",
      description: "Removes the node and its aliases; its agent is disconnected and told it was deleted.",
      params: idParam,
      success: { status: 204, description: "Deleted", data: null },
      errors: [404, 503],
    },
    async (c, { params }) => {
      const db = c.get("db");
      // Live executions end `cancelled` in the same batch, so none is left stuck without a node.
      const [, , deleted] = await db.batch([
        ...cancelForDeletedNode(db, params.id),
        db.delete(nodes).where(eq(nodes.id, params.id)).returning({ id: nodes.id }),
      ]);
      if (deleted.length === 0) throw new ApiError("not_found", "Node not found");
      // The token is gone from libSQL first, so the agent cannot reconnect; then its session is told.
      await nodeSession(c.env, params.id).forget();
      return respondNoContent(c);
    },
  );

  defineRoute(
    app,
    {
      method: "patch",
      path: "/api/v1/nodes/{id}/change_cluster",
      tag: TAG,
      summary: "Change a node's cluster",
      params: idParam,
      body: v.pipe(v.strictObject({ cluster_name: ClusterName }), v.title("ChangeClusterRequest")),
      success: single("The moved node"),
      errors: [404, 409, 422, 503],
    },
    async (c, { params, body }) => {
      const db = c.get("db");
      const moved = await changeNodeCluster(db, params.id, body.cluster_name);
      const node = await getNode(db, params.id);
      // Best effort: a connected agent learns its new cluster now; an offline one on its next hello.
      await nodeSession(c.env, params.id)
        .changeCluster(moved.to)
        .catch(() => undefined);
      return respond(c, await presentNode(node, c.get("config")));
    },
  );
}
