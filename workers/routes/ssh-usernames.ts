import type { Hono } from "hono";
import { getNode } from "../../src/nodes/store";
import { UuidParam } from "../../src/schemas/common";
import { sshUsernameListSpec } from "../../src/ssh-usernames/list";
import { presentUsername, presentUsernames } from "../../src/ssh-usernames/present";
import { SshUsernameCreateRequest, SshUsernameSchema } from "../../src/ssh-usernames/schema";
import { createUsername, deleteUsername, getUsername, listUsernames } from "../../src/ssh-usernames/store";
import type { AppEnv } from "../middleware/request-context";
import { defineRoute } from "../openapi/define-route";
import { listRoute } from "../openapi/list-route";

const TAG = "Ssh.SshUsername";

const idParam = { id: { schema: UuidParam, description: "SSH username ID" } };

/** Registers SSH usernames (seed: Ssh.SshUsername). */
export function registerSshUsernameRoutes(app: Hono<AppEnv>): void {
  defineRoute(
    app,
    {
      method: "post",
      path: "/api/v1/nodes/{node_id}/ssh_usernames",
      tag: TAG,
      summary: "Create SSH username",
      description:
        "Create a new SSH username for a specific node, optionally with public keys and/or password. The password is stored as an Argon2id hash and never returned (`has_password`). Usernames are unique per node (409).",
      params: { node_id: { schema: UuidParam, description: "Node ID to create SSH username for" } },
      body: SshUsernameCreateRequest,
      success: { status: 201, description: "SSH username created", data: SshUsernameSchema },
      errors: [404, 409, 422, 503],
    },
    async (c, { params, body }) => {
      const db = c.get("db");
      const node = await getNode(db, params.node_id);
      return { data: await presentUsername(db, await createUsername(db, node.id, body)) };
    },
  );

  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/ssh_usernames",
      tag: TAG,
      summary: "List SSH usernames",
      description:
        "Returns a paginated list of SSH usernames with filtering and sorting, each with its public keys",
      list: sshUsernameListSpec,
      success: {
        status: 200,
        description: "Paginated list of SSH usernames",
        data: SshUsernameSchema,
        paginated: true,
      },
    },
    listRoute({ page: listUsernames, present: (rows, c) => presentUsernames(c.get("db"), rows) }),
  );

  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/ssh_usernames/{id}",
      tag: TAG,
      summary: "Get SSH username",
      description: "Get a specific SSH username by ID, with its public keys",
      params: idParam,
      success: { status: 200, description: "The SSH username", data: SshUsernameSchema },
      errors: [404],
    },
    async (c, { params }) => {
      const db = c.get("db");
      return { data: await presentUsername(db, await getUsername(db, params.id)) };
    },
  );

  defineRoute(
    app,
    {
      method: "delete",
      path: "/api/v1/ssh_usernames/{id}",
      tag: TAG,
      summary: "Delete SSH username",
      description: "Delete an SSH username and all associated public keys",
      params: idParam,
      success: { status: 204, description: "Deleted", data: null },
      errors: [404, 503],
    },
    async (c, { params }) => {
      await deleteUsername(c.get("db"), params.id);
      return undefined;
    },
  );
}
