import type { Hono } from "hono";
import { aliasListSpec } from "../../src/aliases/list";
import { presentAlias } from "../../src/aliases/present";
import { AliasResponseSchema, CreateAliasRequest } from "../../src/aliases/schema";
import { createAlias, deleteAlias, getAlias, listAliases } from "../../src/aliases/store";
import { getNode } from "../../src/nodes/store";
import { UuidParam } from "../../src/schemas/common";
import type { AppEnv } from "../middleware/request-context";
import { defineRoute } from "../openapi/define-route";
import { listRoute } from "../openapi/list-route";

const TAG = "Nodes.Alias";

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
      return { data: presentAlias(await createAlias(db, node, body.name)) };
    },
  );

  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/aliases",
      tag: TAG,
      summary: "List all aliases",
      list: aliasListSpec,
      success: {
        status: 200,
        description: "Paginated list of aliases",
        data: AliasResponseSchema,
        paginated: true,
      },
    },
    listRoute({ page: listAliases, present: (rows) => rows.map(presentAlias) }),
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
    async (c, { params }) => ({ data: presentAlias(await getAlias(c.get("db"), params.id)) }),
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
      await deleteAlias(c.get("db"), params.id);
      return undefined;
    },
  );
}
