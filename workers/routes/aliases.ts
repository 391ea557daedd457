import { count, eq, sql } from "drizzle-orm";
import type { Hono } from "hono";
import * as v from "valibot";
import type { Database } from "../../src/db/client";
import { isUniqueViolation } from "../../src/db/errors";
import { aliases, clusters } from "../../src/db/schema";
import type { ListSpec } from "../../src/list-query/engine";
import { rangeFilters, textFilter } from "../../src/list-query/filters";
import { getNode } from "../../src/nodes/store";
import { DateTimeOutput, UuidOutput, UuidParam } from "../../src/schemas/common";
import { isoSeconds } from "../../src/time";
import { ApiError } from "../errors";
import type { AppEnv } from "../middleware/request-context";
import { defineRoute } from "../openapi/define-route";
import { respond, respondList, respondNoContent } from "../respond";
import { listPage } from "../services/list-page";

const TAG = "Nodes.Alias";

const CreateAliasRequest = v.pipe(
  v.strictObject({
    name: v.pipe(
      v.string("must be a string"),
      v.minLength(1, "can't be blank"),
      v.maxLength(63, "must be at most 63 characters"),
      v.regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, "must be lowercase alphanumeric with inner hyphens"),
    ),
  }),
  v.title("CreateAliasRequest"),
);

const AliasResponseSchema = v.pipe(
  v.object({
    cluster_name: v.string(),
    id: UuidOutput,
    inserted_at: DateTimeOutput,
    name: v.string(),
    node_id: UuidOutput,
    updated_at: DateTimeOutput,
    vpn_hostname: v.string(),
  }),
  v.title("AliasResponse"),
);

const columns = {
  id: aliases.id,
  name: aliases.name,
  nodeId: aliases.nodeId,
  insertedAt: aliases.insertedAt,
  updatedAt: aliases.updatedAt,
  clusterName: clusters.name,
  vpnDomain: clusters.vpnDomain,
};

function selectAliases(db: Database) {
  return db.select(columns).from(aliases).innerJoin(clusters, eq(clusters.id, aliases.clusterId));
}

function present(row: {
  id: string;
  name: string;
  nodeId: string;
  insertedAt: number;
  updatedAt: number;
  clusterName: string;
  vpnDomain: string;
}) {
  return {
    cluster_name: row.clusterName,
    id: row.id,
    inserted_at: isoSeconds(row.insertedAt),
    name: row.name,
    node_id: row.nodeId,
    updated_at: isoSeconds(row.updatedAt),
    vpn_hostname: `${row.name}.${row.vpnDomain}`,
  };
}

const listSpec: ListSpec = {
  filters: {
    cluster_name: textFilter(sql`${clusters.name}`, "Filter by cluster name (exact match or wildcard)"),
    name: textFilter(sql`${aliases.name}`, "Filter by alias name (exact match or wildcard)"),
    node_id: {
      description: "Filter by node ID (exact match UUID)",
      type: "string",
      parse: (raw) => (v.is(UuidParam, raw) ? { value: raw.toLowerCase() } : { error: "must be a UUID" }),
      toSql: (id: string) => sql`${aliases.nodeId} = ${id}`,
    },
    ...rangeFilters("inserted_at", sql`${aliases.insertedAt}`, "datetime"),
    ...rangeFilters("updated_at", sql`${aliases.updatedAt}`, "datetime"),
  },
  sortable: {
    name: sql`${aliases.name}`,
    cluster_name: sql`${clusters.name}`,
    inserted_at: sql`${aliases.insertedAt}`,
    updated_at: sql`${aliases.updatedAt}`,
  },
  defaultOrder: [{ field: "inserted_at", direction: "asc" }],
  tieBreaker: sql`${aliases.id}`,
};

const idParam = { id: { schema: UuidParam, description: "Alias ID" } };

/** Registers node aliases (seed: Nodes.Alias). */
export function registerAliasRoutes(app: Hono<AppEnv>): void {
  defineRoute(
    app,
    {
      method: "post",
      path: "/api/v1/nodes/{node_id}/aliases",
      tag: TAG,
      summary: "Create a new alias for a node",
      description:
        "Alias names are unique within the node's cluster; the alias resolves as `<name>.<cluster vpn_domain>`.",
      params: { node_id: { schema: UuidParam, description: "Node ID" } },
      body: CreateAliasRequest,
      success: { status: 201, description: "Alias created", data: AliasResponseSchema },
      errors: [404, 409, 422, 503],
    },
    async (c, { params, body }) => {
      const db = c.get("db");
      const node = await getNode(db, params.node_id);
      const now = Date.now();
      const id = crypto.randomUUID();
      try {
        await db.insert(aliases).values({
          id,
          nodeId: node.id,
          clusterId: node.clusterId,
          name: body.name,
          insertedAt: now,
          updatedAt: now,
        });
      } catch (err) {
        if (isUniqueViolation(err)) {
          throw new ApiError(
            "conflict",
            `Alias "${body.name}" already exists in cluster "${node.clusterName}"`,
            { name: ["has already been taken"] },
          );
        }
        throw err;
      }
      const [row] = await selectAliases(db).where(eq(aliases.id, id));
      return respond(c, present(row), 201);
    },
  );

  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/aliases",
      tag: TAG,
      summary: "List all aliases",
      list: listSpec,
      success: {
        status: 200,
        description: "Paginated list of aliases",
        data: AliasResponseSchema,
        paginated: true,
      },
    },
    async (c, { list }) => {
      const db = c.get("db");
      const q = list!;
      const { rows, pagination } = await listPage(
        db,
        q,
        selectAliases(db),
        db.select({ total: count() }).from(aliases).innerJoin(clusters, eq(clusters.id, aliases.clusterId)),
      );
      return respondList(c, rows.map(present), pagination);
    },
  );

  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/aliases/{id}",
      tag: TAG,
      summary: "Get an alias",
      params: idParam,
      success: { status: 200, description: "The alias", data: AliasResponseSchema },
      errors: [404],
    },
    async (c, { params }) => {
      const [row] = await selectAliases(c.get("db")).where(eq(aliases.id, params.id));
      if (!row) throw new ApiError("not_found", "Alias not found");
      return respond(c, present(row));
    },
  );

  defineRoute(
    app,
    {
      method: "delete",
      path: "/api/v1/aliases/{id}",
      tag: TAG,
      summary: "Delete an alias",
      params: idParam,
      success: { status: 204, description: "Deleted", data: null },
      errors: [404, 503],
    },
    async (c, { params }) => {
      const deleted = await c
        .get("db")
        .delete(aliases)
        .where(eq(aliases.id, params.id))
        .returning({ id: aliases.id });
      if (deleted.length === 0) throw new ApiError("not_found", "Alias not found");
      return respondNoContent(c);
    },
  );
}
