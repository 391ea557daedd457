import type { Hono } from "hono";
import { roleIdsByName } from "../../src/roles/store";
import { UuidParam } from "../../src/schemas/common";
import { userListSpec } from "../../src/users/list";
import { presentUser } from "../../src/users/present";
import {
  SetPasswordRequest,
  UserCreateRequest,
  UserResponseSchema,
  UserUpdateRequest,
} from "../../src/users/schema";
import {
  createUser,
  disableUser,
  getUser,
  listUsers,
  setUserPassword,
  unlockUser,
  updateUser,
} from "../../src/users/store";
import { ownAuditEntry } from "../audit/request-audit";
import type { AppEnv } from "../middleware/request-context";
import { defineRoute } from "../openapi/define-route";
import { listRoute } from "../openapi/list-route";

const TAG = "Access.User";
const idParam = { id: { schema: UuidParam, description: "User ID" } };

/** Registers `/api/v1/users`. Users are never deleted (audit events refer to them): DELETE disables. */
export function registerUserRoutes(app: Hono<AppEnv>): void {
  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/users",
      tag: TAG,
      summary: "List users",
      permission: "users:read",
      clusterScope: { refuse: true },
      list: userListSpec,
      success: {
        status: 200,
        description: "Paginated list of users",
        data: UserResponseSchema,
        paginated: true,
      },
    },
    listRoute({ page: listUsers, present: (rows) => rows.map(presentUser) }),
  );

  defineRoute(
    app,
    {
      method: "post",
      path: "/api/v1/users",
      tag: TAG,
      summary: "Create a user",
      description:
        "There is no public registration: the first user is created with the API key (give it the `admin` role). Passwords have at least 12 characters and are stored as Argon2id hashes.",
      permission: "users:write",
      clusterScope: { refuse: true },
      audit: false,
      body: UserCreateRequest,
      success: { status: 201, description: "User created", data: UserResponseSchema },
      errors: [409, 422, 503],
    },
    async (c, { body }) => {
      const db = c.get("db");
      const roleIds = await roleIdsByName(db, body.roles);
      const audit = ownAuditEntry(c, "user.created", { type: "user", id: null, status: 201 });
      return { data: presentUser(await createUser(db, body, roleIds, audit)) };
    },
  );

  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/users/{id}",
      tag: TAG,
      summary: "Get a user",
      permission: "users:read",
      clusterScope: { refuse: true },
      params: idParam,
      success: { status: 200, description: "The user", data: UserResponseSchema },
      errors: [404],
    },
    async (c, { params }) => ({ data: presentUser(await getUser(c.get("db"), params.id)) }),
  );

  defineRoute(
    app,
    {
      method: "patch",
      path: "/api/v1/users/{id}",
      tag: TAG,
      summary: "Update a user's email or roles",
      description:
        "`roles` replaces the user's roles. The last enabled admin cannot lose the admin role (409).",
      permission: "users:write",
      clusterScope: { refuse: true },
      audit: false,
      params: idParam,
      body: UserUpdateRequest,
      success: { status: 200, description: "The updated user", data: UserResponseSchema },
      errors: [404, 409, 422, 503],
    },
    async (c, { params, body }) => {
      const db = c.get("db");
      const user = await getUser(db, params.id);
      const roleIds = body.roles ? await roleIdsByName(db, body.roles) : undefined;
      const audit = ownAuditEntry(c, "user.updated", { type: "user", id: user.id, status: 200 });
      const updated = await updateUser(
        db,
        user,
        { email: body.email, roleIds, roleNames: body.roles },
        audit,
      );
      return { data: presentUser(updated) };
    },
  );

  defineRoute(
    app,
    {
      method: "delete",
      path: "/api/v1/users/{id}",
      tag: TAG,
      summary: "Disable a user",
      description:
        "Disables the user (never a hard delete: audit events refer to it), ends its sessions and stops its API tokens. Returns the user with `disabled: true`. The last enabled admin cannot be disabled (409).",
      permission: "users:write",
      clusterScope: { refuse: true },
      audit: false,
      params: idParam,
      success: { status: 200, description: "The disabled user", data: UserResponseSchema },
      errors: [404, 409, 503],
    },
    async (c, { params }) => {
      const db = c.get("db");
      const user = await getUser(db, params.id);
      const audit = ownAuditEntry(c, "user.disabled", { type: "user", id: user.id, status: 200 });
      return { data: presentUser(await disableUser(db, user, audit)) };
    },
  );

  defineRoute(
    app,
    {
      method: "put",
      path: "/api/v1/users/{id}/password",
      tag: TAG,
      summary: "Set a user's password",
      description: "Ends every session of the user.",
      permission: "users:write",
      clusterScope: { refuse: true },
      audit: false,
      params: idParam,
      body: SetPasswordRequest,
      success: { status: 204, description: "Password set", data: null },
      errors: [404, 422, 503],
    },
    async (c, { params, body }) => {
      const db = c.get("db");
      const user = await getUser(db, params.id);
      const audit = ownAuditEntry(c, "user.password_set", { type: "user", id: user.id, status: 204 });
      await setUserPassword(db, user, body.new_password, null, audit);
    },
  );

  defineRoute(
    app,
    {
      method: "patch",
      path: "/api/v1/users/{id}/unlock",
      tag: TAG,
      summary: "Lift a user's login lock",
      description: "Clears the failed-login count of the username (a lock on the caller's IP address stays).",
      permission: "users:write",
      clusterScope: { refuse: true },
      audit: false,
      params: idParam,
      success: { status: 200, description: "The user", data: UserResponseSchema },
      errors: [404, 503],
    },
    async (c, { params }) => {
      const db = c.get("db");
      const user = await getUser(db, params.id);
      const audit = ownAuditEntry(c, "user.unlocked", { type: "user", id: user.id, status: 200 });
      return { data: presentUser(await unlockUser(db, user, audit)) };
    },
  );
}
