import { count, eq, sql } from "drizzle-orm";
import type { Hono } from "hono";
import * as v from "valibot";
import { type ClusterResponse, presentClusters } from "../../src/clusters/present";
import { clusters, nodes } from "../../src/db/schema";
import type { ListSpec } from "../../src/list-query/engine";
import { integerFilter, presenceFilter, rangeFilters, textFilter } from "../../src/list-query/filters";
import { DateTimeOutput, UuidOutput } from "../../src/schemas/common";
import { ApiError } from "../errors";
import type { AppEnv } from "../middleware/request-context";
import { defineRoute } from "../openapi/define-route";
import { respond, respondList, respondNoContent } from "../respond";
import { createCluster, getClusterByName } from "../services/clusters";
import { listPage } from "../services/list-page";

const TAG = "Nodes.Cluster";

export const ClusterName = v.pipe(
  v.string("must be a string"),
  v.minLength(1, "can't be blank"),
  v.maxLength(24, "must be at most 24 characters"),
  v.regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, "must be lowercase alphanumeric with inner hyphens"),
);

const NodeLimit = v.nullable(
  v.pipe(
    v.number("must be an integer"),
    v.integer("must be an integer"),
    v.minValue(1, "must be greater than or equal to 1"),
  ),
);

const ClusterCreateRequest = v.pipe(
  v.strictObject({
    name: v.pipe(
      ClusterName,
      v.check((name) => name !== "default", 'is reserved ("default" names the default cluster in URLs)'),
    ),
    ipv4_range: v.optional(
      v.nullable(
        v.pipe(
          v.string("must be a string"),
          v.description("IPv4 CIDR range (auto-generated if not provided)"),
        ),
      ),
    ),
    node_limit: v.optional(NodeLimit),
  }),
  v.title("ClusterCreateRequest"),
);

const ClusterUpdateRequest = v.pipe(
  v.strictObject({ node_limit: v.optional(NodeLimit) }),
  v.title("ClusterUpdateRequest"),
);

const NodeSummarySchema = v.object({
  id: v.string(),
  id_type: v.string(),
  status: v.string(),
  vpn_hostname: v.string(),
});

export const ClusterResponseSchema = v.pipe(
  v.object({
    id: UuidOutput,
    inserted_at: DateTimeOutput,
    ipv4_range: v.string(),
    name: v.string(),
    network_name: v.string(),
    node_count: v.number(),
    node_limit: v.nullable(v.number()),
    nodes: v.array(NodeSummarySchema),
    updated_at: DateTimeOutput,
    vpn_domain: v.string(),
  }),
  v.title("ClusterResponse"),
);

const nodeCount = sql`(SELECT count(*) FROM ${nodes} WHERE ${nodes.clusterId} = ${clusters.id})`;

/** The cluster list's field table; command targeting reuses its filters. */
export const listSpec: ListSpec = {
  filters: {
    name: textFilter(
      sql`${clusters.name}`,
      "Filter by cluster name (exact match or wildcard: prod*, *tion, *rod*)",
    ),
    ipv4_range: textFilter(sql`${clusters.ipv4Range}`, "Filter by IPv4 range (exact match or wildcard)"),
    has_node_limit: presenceFilter(
      sql`${clusters.nodeLimit}`,
      "Filter by whether a node limit is set: true returns clusters with a limit, false returns unlimited",
    ),
    node_limit: integerFilter(sql`${clusters.nodeLimit}`, "Filter by exact node limit"),
    ...rangeFilters("node_limit", sql`${clusters.nodeLimit}`, "integer"),
    ...rangeFilters("node_count", nodeCount, "integer"),
    ...rangeFilters("inserted_at", sql`${clusters.insertedAt}`, "datetime"),
    ...rangeFilters("updated_at", sql`${clusters.updatedAt}`, "datetime"),
  },
  sortable: {
    name: sql`${clusters.name}`,
    ipv4_range: sql`${clusters.ipv4Start}`,
    node_limit: sql`${clusters.nodeLimit}`,
    node_count: nodeCount,
    inserted_at: sql`${clusters.insertedAt}`,
    updated_at: sql`${clusters.updatedAt}`,
  },
  defaultOrder: [{ field: "inserted_at", direction: "asc" }],
  tieBreaker: sql`${clusters.id}`,
};

const nameParam = { name: { schema: v.string(), description: "Cluster name" } };

async function present(
  c: Parameters<Parameters<typeof defineRoute>[2]>[0],
  row: typeof clusters.$inferSelect,
) {
  const [one] = await presentClusters(c.get("db"), [row]);
  return one as ClusterResponse;
}

/** Registers `/api/v1/clusters` (seed: Nodes.Cluster). */
export function registerClusterRoutes(app: Hono<AppEnv>): void {
  defineRoute(
    app,
    {
      method: "post",
      path: "/api/v1/clusters",
      tag: TAG,
      summary: "Create a new cluster",
      description:
        "Create a new edge cluster with optional IP range. The name `default` is reserved and rejected with 422.",
      body: ClusterCreateRequest,
      success: { status: 201, description: "Cluster created", data: ClusterResponseSchema },
      errors: [409, 422, 503],
    },
    async (c, { body }) =>
      respond(c, await present(c, await createCluster(c.get("db"), c.get("config"), body)), 201),
  );

  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/clusters",
      tag: TAG,
      summary: "List all clusters",
      list: listSpec,
      success: {
        status: 200,
        description: "Paginated list of clusters",
        data: ClusterResponseSchema,
        paginated: true,
      },
    },
    async (c, { list }) => {
      const db = c.get("db");
      const q = list!;
      const { rows, pagination } = await listPage(
        db,
        q,
        db.select().from(clusters),
        db.select({ total: count() }).from(clusters),
      );
      return respondList(c, await presentClusters(db, rows), pagination);
    },
  );

  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/clusters/{name}",
      tag: TAG,
      summary: "Get a specific cluster",
      params: nameParam,
      success: { status: 200, description: "The cluster", data: ClusterResponseSchema },
      errors: [404],
    },
    async (c, { params }) => respond(c, await present(c, await getClusterByName(c.get("db"), params.name))),
  );

  defineRoute(
    app,
    {
      method: "patch",
      path: "/api/v1/clusters/{name}",
      tag: TAG,
      summary: "Update a cluster",
      description: "Only provided fields are changed. Pass null to unset a nullable field.",
      params: nameParam,
      body: ClusterUpdateRequest,
      success: { status: 200, description: "The updated cluster", data: ClusterResponseSchema },
      errors: [404, 422, 503],
    },
    async (c, { params, body }) => {
      const db = c.get("db");
      const row = await getClusterByName(db, params.name);
      if (body.node_limit === undefined) return respond(c, await present(c, row));
      if (body.node_limit !== null) {
        const [{ n }] = await db.select({ n: count() }).from(nodes).where(eq(nodes.clusterId, row.id));
        if (n > body.node_limit) {
          throw new ApiError("validation_failed", "Validation failed", {
            node_limit: [`must be at least the current node count (${n})`],
          });
        }
      }
      const [updated] = await db
        .update(clusters)
        .set({ nodeLimit: body.node_limit, updatedAt: Date.now() })
        .where(eq(clusters.id, row.id))
        .returning();
      if (!updated) throw new ApiError("not_found", `Cluster "${params.name}" not found`);
      return respond(c, await present(c, updated));
    },
  );

  defineRoute(
    app,
    {
      method: "delete",
      path: "/api/v1/clusters/{name}",
      tag: TAG,
      summary: "Delete a cluster",
      description: "Delete an empty cluster (must have no nodes).",
      params: nameParam,
      success: { status: 204, description: "Deleted", data: null },
      errors: [404, 409, 503],
    },
    async (c, { params }) => {
      const db = c.get("db");
      const row = await getClusterByName(db, params.name);
      // Conditional delete: a node enrolling concurrently can't be orphaned.
      const result = await db.run(
        sql`DELETE FROM ${clusters} WHERE ${clusters.id} = ${row.id} AND NOT EXISTS (SELECT 1 FROM ${nodes} WHERE ${nodes.clusterId} = ${row.id})`,
      );
      if (result.rowsAffected === 0) {
        throw new ApiError("conflict", `Cluster "${params.name}" still has nodes; move or delete them first`);
      }
      return respondNoContent(c);
    },
  );
}
