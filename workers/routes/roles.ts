import type { Hono } from "hono";
import { roleListSpec } from "../../src/roles/list";
import { presentRole } from "../../src/roles/present";
import { RoleCreateRequest, RoleResponseSchema, RoleUpdateRequest } from "../../src/roles/schema";
import { createRole, deleteRole, getRole, listRoles, updateRole } from "../../src/roles/store";
import { UuidParam } from "../../src/schemas/common";
import { ownAuditEntry } from "../audit/request-audit";
import type { AppEnv } from "../middleware/request-context";
import { defineRoute } from "../openapi/define-route";
import { listRoute } from "../openapi/list-route";

const TAG = "Access.Role";
const idParam = { id: { schema: UuidParam, description: "Role ID" } };

/** Registers `/api/v1/roles`: system roles (admin, operator, viewer) and custom ones. */
export function registerRoleRoutes(app: Hono<AppEnv>): void {
  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/roles",
      tag: TAG,
      summary: "List roles",
      permission: "roles:read",
      list: roleListSpec,
      success: {
        status: 200,
        description: "Paginated list of roles",
        data: RoleResponseSchema,
        paginated: true,
      },
    },
    listRoute({ page: listRoles, present: (rows) => rows.map(presentRole) }),
  );

  defineRoute(
    app,
    {
      method: "post",
      path: "/api/v1/roles",
      tag: TAG,
      summary: "Create a custom role",
      description:
        "Permissions are `<resource>:<action>` patterns with `*` wildcards; unknown resources or actions are 422.",
      permission: "roles:write",
      clusterScope: { refuse: true },
      audit: false,
      body: RoleCreateRequest,
      success: { status: 201, description: "Role created", data: RoleResponseSchema },
      errors: [409, 422, 503],
    },
    async (c, { body }) => {
      const audit = ownAuditEntry(c, "role.created", { type: "role", id: null, status: 201 });
      return { data: presentRole(await createRole(c.get("db"), body, audit)) };
    },
  );

  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/roles/{id}",
      tag: TAG,
      summary: "Get a role",
      permission: "roles:read",
      params: idParam,
      success: { status: 200, description: "The role", data: RoleResponseSchema },
      errors: [404],
    },
    async (c, { params }) => ({ data: presentRole(await getRole(c.get("db"), params.id)) }),
  );

  defineRoute(
    app,
    {
      method: "patch",
      path: "/api/v1/roles/{id}",
      tag: TAG,
      summary: "Update a custom role",
      description: "System roles cannot be changed (409). A change applies to its users' sessions at once.",
      permission: "roles:write",
      clusterScope: { refuse: true },
      audit: false,
      params: idParam,
      body: RoleUpdateRequest,
      success: { status: 200, description: "The updated role", data: RoleResponseSchema },
      errors: [404, 409, 422, 503],
    },
    async (c, { params, body }) => {
      const db = c.get("db");
      const row = await getRole(db, params.id);
      const audit = ownAuditEntry(c, "role.updated", { type: "role", id: row.id, status: 200 });
      return { data: presentRole(await updateRole(db, row, body, audit)) };
    },
  );

  defineRoute(
    app,
    {
      method: "delete",
      path: "/api/v1/roles/{id}",
      tag: TAG,
      summary: "Delete a custom role",
      description: "System roles and roles that users still hold cannot be deleted (409).",
      permission: "roles:write",
      clusterScope: { refuse: true },
      audit: false,
      params: idParam,
      success: { status: 204, description: "Deleted", data: null },
      errors: [404, 409, 503],
    },
    async (c, { params }) => {
      const db = c.get("db");
      const row = await getRole(db, params.id);
      await deleteRole(db, row, ownAuditEntry(c, "role.deleted", { type: "role", id: row.id, status: 204 }));
    },
  );
}
