import type { Hono } from "hono";
import { UuidParam } from "../../src/schemas/common";
import { sshPublicKeyListSpec } from "../../src/ssh-public-keys/list";
import { presentPublicKey } from "../../src/ssh-public-keys/present";
import { SshPublicKeyCreateRequest, SshPublicKeySchema } from "../../src/ssh-public-keys/schema";
import {
  createPublicKey,
  deletePublicKey,
  getPublicKey,
  listPublicKeys,
} from "../../src/ssh-public-keys/store";
import type { AppEnv } from "../middleware/request-context";
import { defineRoute } from "../openapi/define-route";
import { listRoute } from "../openapi/list-route";

const TAG = "Ssh.SshPublicKey";

const idParam = { id: { schema: UuidParam, description: "SSH public key ID" } };

/** Registers SSH public keys (seed: Ssh.SshPublicKey). */
export function registerSshPublicKeyRoutes(app: Hono<AppEnv>): void {
  defineRoute(
    app,
    {
      method: "post",
      path: "/api/v1/ssh_usernames/{ssh_username_id}/ssh_public_keys",
      tag: TAG,
      summary: "Create SSH public key",
      description:
        "Create a new SSH public key for a specific SSH username. The key must be in valid OpenSSH format. The same key (same key data, whatever its comment) twice for one username is a 409.",
      params: {
        ssh_username_id: { schema: UuidParam, description: "SSH username ID to create public key for" },
      },
      body: SshPublicKeyCreateRequest,
      success: { status: 201, description: "SSH public key created", data: SshPublicKeySchema },
      errors: [404, 409, 422, 503],
    },
    async (c, { params, body }) => {
      const row = await createPublicKey(c.get("db"), params.ssh_username_id, body.key_name, body.public_key);
      return { data: presentPublicKey(row) };
    },
  );

  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/ssh_public_keys",
      tag: TAG,
      summary: "List SSH public keys",
      description: "Returns a paginated list of SSH public keys with filtering and sorting",
      list: sshPublicKeyListSpec,
      success: {
        status: 200,
        description: "Paginated list of SSH public keys",
        data: SshPublicKeySchema,
        paginated: true,
      },
    },
    listRoute({ page: listPublicKeys, present: (rows) => rows.map(presentPublicKey) }),
  );

  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/ssh_public_keys/{id}",
      tag: TAG,
      summary: "Get SSH public key",
      description: "Get a specific SSH public key by ID",
      params: idParam,
      success: { status: 200, description: "The SSH public key", data: SshPublicKeySchema },
      errors: [404],
    },
    async (c, { params }) => ({ data: presentPublicKey(await getPublicKey(c.get("db"), params.id)) }),
  );

  defineRoute(
    app,
    {
      method: "delete",
      path: "/api/v1/ssh_public_keys/{id}",
      tag: TAG,
      summary: "Delete SSH public key",
      description: "Delete an SSH public key; the node's sshd stops accepting it at the next login.",
      params: idParam,
      success: { status: 204, description: "Deleted", data: null },
      errors: [404, 503],
    },
    async (c, { params }) => {
      await deletePublicKey(c.get("db"), params.id);
      return undefined;
    },
  );
}
