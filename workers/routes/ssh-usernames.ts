import { and, asc, count, eq, inArray, sql } from "drizzle-orm";
import type { Hono } from "hono";
import * as v from "valibot";
import type { Database } from "../../src/db/client";
import { isForeignKeyViolation, isUniqueViolation } from "../../src/db/errors";
import { clusters, nodes, sshPublicKeys, sshUsernames } from "../../src/db/schema";
import type { ListSpec } from "../../src/list-query/engine";
import { presenceFilter, rangeFilters, textFilter } from "../../src/list-query/filters";
import { getNode } from "../../src/nodes/store";
import { DateTimeOutput, UuidOutput, UuidParam } from "../../src/schemas/common";
import { hashPassword } from "../../src/ssh/password";
import { SSH_USERNAME_MAX, SSH_USERNAME_MIN, SSH_USERNAME_PATTERN } from "../../src/ssh/username";
import { isoSeconds } from "../../src/time";
import { ApiError } from "../errors";
import type { AppEnv } from "../middleware/request-context";
import { defineRoute } from "../openapi/define-route";
import { respond, respondList, respondNoContent } from "../respond";
import { listPage } from "../services/list-page";
import { objectMessage } from "../services/targeting";
import {
  KeyNameInput,
  keyColumns,
  newKeyRow,
  PublicKeyInput,
  presentPublicKey,
  SshPublicKeySchema,
  uuidFilter,
} from "./ssh-public-keys";

const TAG = "Ssh.SshUsername";

const UsernameInput = v.pipe(
  v.string("must be a string"),
  v.minLength(SSH_USERNAME_MIN, `must be at least ${SSH_USERNAME_MIN} characters`),
  v.maxLength(SSH_USERNAME_MAX, `must be at most ${SSH_USERNAME_MAX} characters`),
  v.regex(
    SSH_USERNAME_PATTERN,
    "must start with a letter or underscore and contain only lowercase letters, digits, hyphens and underscores",
  ),
  v.description(
    "SSH username for node access (3-32 characters, must start with letter or underscore, lowercase letters/digits/hyphens/underscores only)",
  ),
);

const SshUsernameCreateRequest = v.pipe(
  v.strictObject(
    {
      username: UsernameInput,
      password: v.optional(
        v.nullable(
          v.pipe(
            v.string("must be a string"),
            v.minLength(12, "must be at least 12 characters"),
            v.maxLength(128, "must be at most 128 characters"),
            v.description(
              "Optional password for username/password SSH authentication (12-128 characters if provided, will be hashed with Argon2)",
            ),
          ),
        ),
      ),
      public_keys: v.optional(
        v.nullable(
          v.pipe(
            v.array(
              v.strictObject({ key_name: KeyNameInput, public_key: PublicKeyInput }, objectMessage),
              "must be an array of {key_name, public_key}",
            ),
            v.maxLength(100, "must contain at most 100 keys"),
            v.description("Optional array of SSH public keys to create with this username"),
          ),
        ),
      ),
    },
    objectMessage,
  ),
  v.title("SshUsernameCreateRequest"),
  v.description("Create a new SSH username for a node, optionally with password and/or public keys"),
);

const SshUsernameSchema = v.pipe(
  v.object({
    has_password: v.pipe(
      v.boolean(),
      v.description("Whether this username has a password configured for authentication"),
    ),
    id: UuidOutput,
    inserted_at: DateTimeOutput,
    node_id: UuidOutput,
    public_keys: v.pipe(
      v.array(SshPublicKeySchema),
      v.description("SSH public keys associated with this username"),
    ),
    updated_at: DateTimeOutput,
    username: v.string(),
  }),
  v.title("SshUsername"),
);

const columns = {
  id: sshUsernames.id,
  nodeId: sshUsernames.nodeId,
  username: sshUsernames.username,
  hasPassword: sql<number>`${sshUsernames.passwordHash} IS NOT NULL`,
  insertedAt: sshUsernames.insertedAt,
  updatedAt: sshUsernames.updatedAt,
};

type UsernameRow = {
  id: string;
  nodeId: string;
  username: string;
  hasPassword: number | boolean;
  insertedAt: number;
  updatedAt: number;
};

function selectUsernames(db: Database) {
  return db
    .select(columns)
    .from(sshUsernames)
    .innerJoin(nodes, eq(nodes.id, sshUsernames.nodeId))
    .innerJoin(clusters, eq(clusters.id, nodes.clusterId));
}

/**
 * Usernames with their keys (oldest first; rowid keeps the order of keys created in one request),
 * in the contract's `SshUsername` shape. The password hash never leaves.
 */
async function present(db: Database, rows: UsernameRow[]) {
  const ids = rows.map((r) => r.id);
  const keys =
    ids.length === 0
      ? []
      : await db
          .select(keyColumns)
          .from(sshPublicKeys)
          .where(inArray(sshPublicKeys.sshUsernameId, ids))
          .orderBy(asc(sshPublicKeys.insertedAt), sql`rowid`);
  return rows.map((row) => ({
    has_password: Boolean(row.hasPassword),
    id: row.id,
    inserted_at: isoSeconds(row.insertedAt),
    node_id: row.nodeId,
    public_keys: keys.filter((k) => k.sshUsernameId === row.id).map(presentPublicKey),
    updated_at: isoSeconds(row.updatedAt),
    username: row.username,
  }));
}

const listSpec: ListSpec = {
  filters: {
    cluster_name: textFilter(
      sql`${clusters.name}`,
      "Filter by cluster name via node's cluster (exact match or wildcard: prod, east, etc.)",
    ),
    has_password: presenceFilter(
      sql`${sshUsernames.passwordHash}`,
      "Filter by whether username has password configured",
    ),
    node_id: uuidFilter("Filter by node ID", sql`${sshUsernames.nodeId}`),
    username: textFilter(
      sql`${sshUsernames.username}`,
      "Filter by username (exact match or wildcard: root, admin, etc.)",
    ),
    ...rangeFilters("inserted_at", sql`${sshUsernames.insertedAt}`, "datetime"),
    ...rangeFilters("updated_at", sql`${sshUsernames.updatedAt}`, "datetime"),
  },
  sortable: {
    username: sql`${sshUsernames.username}`,
    cluster_name: sql`${clusters.name}`,
    inserted_at: sql`${sshUsernames.insertedAt}`,
    updated_at: sql`${sshUsernames.updatedAt}`,
  },
  defaultOrder: [{ field: "inserted_at", direction: "asc" }],
  tieBreaker: sql`${sshUsernames.id}`,
};

const idParam = { id: { schema: UuidParam, description: "SSH username ID" } };

function usernameTaken(username: string, nodeId: string): ApiError {
  return new ApiError("conflict", `SSH username "${username}" already exists on node ${nodeId}`, {
    username: ["has already been taken"],
  });
}

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
      const now = Date.now();
      const id = crypto.randomUUID();
      const keyRows = await Promise.all(
        (body.public_keys ?? []).map((k: { key_name: string; public_key: string }) =>
          newKeyRow(id, k.key_name, k.public_key, now),
        ),
      );
      const seen = new Map<string, number>();
      keyRows.forEach((row, i) => {
        const first = seen.get(row.fingerprint);
        if (first !== undefined) {
          throw new ApiError("validation_failed", "Validation failed", {
            [`public_keys.${i}.public_key`]: [`is the same key as public_keys.${first}`],
          });
        }
        seen.set(row.fingerprint, i);
      });
      // Checked before hashing: Argon2 is the expensive part of this request.
      const [taken] = await db
        .select({ id: sshUsernames.id })
        .from(sshUsernames)
        .where(and(eq(sshUsernames.nodeId, node.id), eq(sshUsernames.username, body.username)))
        .limit(1);
      if (taken) throw usernameTaken(body.username, node.id);
      const passwordHash = typeof body.password === "string" ? hashPassword(body.password) : null;
      const insertUsername = db.insert(sshUsernames).values({
        id,
        nodeId: node.id,
        username: body.username,
        passwordHash,
        insertedAt: now,
        updatedAt: now,
      });
      try {
        await db.batch(
          (keyRows.length > 0
            ? [insertUsername, db.insert(sshPublicKeys).values(keyRows)]
            : [insertUsername]) as [any, ...any[]],
        );
      } catch (err) {
        // Keys were de-duplicated above, so a unique violation here is a racing username.
        if (isUniqueViolation(err)) throw usernameTaken(body.username, node.id);
        if (isForeignKeyViolation(err)) throw new ApiError("not_found", "Node not found");
        throw err;
      }
      const [created] = await present(db, [
        {
          id,
          nodeId: node.id,
          username: body.username,
          hasPassword: passwordHash !== null,
          insertedAt: now,
          updatedAt: now,
        },
      ]);
      return respond(c, created, 201);
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
      list: listSpec,
      success: {
        status: 200,
        description: "Paginated list of SSH usernames",
        data: SshUsernameSchema,
        paginated: true,
      },
    },
    async (c, { list }) => {
      const db = c.get("db");
      const q = list!;
      const { rows, pagination } = await listPage(
        db,
        q,
        selectUsernames(db),
        db
          .select({ total: count() })
          .from(sshUsernames)
          .innerJoin(nodes, eq(nodes.id, sshUsernames.nodeId))
          .innerJoin(clusters, eq(clusters.id, nodes.clusterId)),
      );
      return respondList(c, await present(db, rows), pagination);
    },
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
      const rows = await db.select(columns).from(sshUsernames).where(eq(sshUsernames.id, params.id)).limit(1);
      if (rows.length === 0) throw new ApiError("not_found", "SSH username not found");
      return respond(c, (await present(db, rows))[0]);
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
      const db = c.get("db");
      // The keys go explicitly in the same batch rather than relying on the foreign key's cascade alone.
      const [, deleted] = await db.batch([
        db.delete(sshPublicKeys).where(eq(sshPublicKeys.sshUsernameId, params.id)),
        db.delete(sshUsernames).where(eq(sshUsernames.id, params.id)).returning({ id: sshUsernames.id }),
      ]);
      if (deleted.length === 0) throw new ApiError("not_found", "SSH username not found");
      return respondNoContent(c);
    },
  );
}
