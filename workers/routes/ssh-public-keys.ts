import { count, eq, type SQL, sql } from "drizzle-orm";
import type { Hono } from "hono";
import * as v from "valibot";
import type { Database } from "../../src/db/client";
import { isForeignKeyViolation, isUniqueViolation } from "../../src/db/errors";
import { clusters, nodes, sshPublicKeys, sshUsernames } from "../../src/db/schema";
import type { ListSpec } from "../../src/list-query/engine";
import { type FilterDef, rangeFilters, textFilter } from "../../src/list-query/filters";
import { DateTimeOutput, UuidOutput, UuidParam } from "../../src/schemas/common";
import {
  fingerprint,
  PUBLIC_KEY_PATTERN,
  parsePublicKey,
  SSH_KEY_ALGORITHMS,
} from "../../src/ssh/public-key";
import { isoSeconds } from "../../src/time";
import { ApiError } from "../errors";
import type { AppEnv } from "../middleware/request-context";
import { defineRoute } from "../openapi/define-route";
import { respond, respondList, respondNoContent } from "../respond";
import { listPage } from "../services/list-page";
import { objectMessage } from "../services/targeting";

const TAG = "Ssh.SshPublicKey";

/** `public_key` of a request: the contract's pattern, then the key blob parsed (src/ssh/public-key.ts). */
export const PublicKeyInput = v.pipe(
  v.string("must be a string"),
  v.minLength(1, "can't be blank"),
  v.regex(
    PUBLIC_KEY_PATTERN,
    `must be an OpenSSH public key ("algorithm base64 [comment]") of a supported algorithm (${SSH_KEY_ALGORITHMS.join(", ")})`,
  ),
  v.rawCheck(({ dataset, addIssue }) => {
    // The pattern already reported keys it refuses; only those it lets through are parsed.
    if (!dataset.typed || !PUBLIC_KEY_PATTERN.test(dataset.value)) return;
    const parsed = parsePublicKey(dataset.value);
    if (!parsed.ok) addIssue({ message: parsed.error });
  }),
  v.description(
    `SSH public key in OpenSSH format (algorithm base64data [comment]). Supported algorithms: ${SSH_KEY_ALGORITHMS.join(", ")}. The key data is decoded and checked (embedded algorithm, key size; RSA at least 2048 bits).`,
  ),
);

export const KeyNameInput = v.pipe(
  v.string("must be a string"),
  v.minLength(1, "can't be blank"),
  v.maxLength(255, "must be at most 255 characters"),
  v.description("Human-readable name for the SSH key"),
);

const SshPublicKeyCreateRequest = v.pipe(
  v.strictObject({ key_name: KeyNameInput, public_key: PublicKeyInput }, objectMessage),
  v.title("SshPublicKeyCreateRequest"),
  v.description("Create a new SSH public key for a username. The key must be in valid OpenSSH format."),
);

/** The contract's `SshPublicKey`. */
export const SshPublicKeySchema = v.pipe(
  v.object({
    id: UuidOutput,
    inserted_at: DateTimeOutput,
    key_name: v.string(),
    public_key: v.pipe(
      v.string(),
      v.description("SSH public key in OpenSSH format (algorithm base64data [comment])"),
    ),
    ssh_username_id: UuidOutput,
    updated_at: DateTimeOutput,
  }),
  v.title("SshPublicKey"),
);

export const keyColumns = {
  id: sshPublicKeys.id,
  sshUsernameId: sshPublicKeys.sshUsernameId,
  keyName: sshPublicKeys.keyName,
  publicKey: sshPublicKeys.publicKey,
  insertedAt: sshPublicKeys.insertedAt,
  updatedAt: sshPublicKeys.updatedAt,
};

type KeyRow = { [K in keyof typeof keyColumns]: (typeof sshPublicKeys.$inferSelect)[K] };

/** A key row as the contract's `SshPublicKey`. */
export function presentPublicKey(row: KeyRow) {
  return {
    id: row.id,
    inserted_at: isoSeconds(row.insertedAt),
    key_name: row.keyName,
    public_key: row.publicKey,
    ssh_username_id: row.sshUsernameId,
    updated_at: isoSeconds(row.updatedAt),
  };
}

/**
 * A key row ready to insert: the text normalised, the fingerprint taken over the decoded blob.
 * `text` must already have passed `PublicKeyInput`.
 */
export async function newKeyRow(sshUsernameId: string, keyName: string, text: string, now: number) {
  const parsed = parsePublicKey(text);
  if (!parsed.ok)
    throw new ApiError("validation_failed", "Validation failed", { public_key: [parsed.error] });
  return {
    id: crypto.randomUUID(),
    sshUsernameId,
    keyName,
    publicKey: parsed.key.normalized,
    fingerprint: await fingerprint(parsed.key.blob),
    insertedAt: now,
    updatedAt: now,
  };
}

function selectKeys(db: Database) {
  return db
    .select(keyColumns)
    .from(sshPublicKeys)
    .innerJoin(sshUsernames, eq(sshUsernames.id, sshPublicKeys.sshUsernameId))
    .innerJoin(nodes, eq(nodes.id, sshUsernames.nodeId))
    .innerJoin(clusters, eq(clusters.id, nodes.clusterId));
}

/** Exact match of a UUID column (any case accepted). */
export function uuidFilter(description: string, expr: SQL): FilterDef {
  return {
    description,
    type: "string",
    parse: (raw) => (v.is(UuidParam, raw) ? { value: raw.toLowerCase() } : { error: "must be a UUID" }),
    toSql: (id: string) => sql`${expr} = ${id}`,
  };
}

const listSpec: ListSpec = {
  filters: {
    cluster_name: textFilter(
      sql`${clusters.name}`,
      "Filter by cluster name via node's cluster (exact match or wildcard: prod, east, etc.)",
    ),
    key_name: textFilter(
      sql`${sshPublicKeys.keyName}`,
      "Filter by key name (exact match or wildcard: my-key, prod, etc.)",
    ),
    node_id: uuidFilter("Filter by node ID", sql`${sshUsernames.nodeId}`),
    public_key: textFilter(
      sql`${sshPublicKeys.publicKey}`,
      "Filter by public key content (useful for searching email comments: *@example.com); without `*` it matches anywhere in the key",
      { substring: true },
    ),
    ssh_username_id: uuidFilter("Filter by SSH username ID", sql`${sshPublicKeys.sshUsernameId}`),
    username: textFilter(
      sql`${sshUsernames.username}`,
      "Filter by SSH username (exact match or wildcard: deploy, admin, etc.)",
    ),
    ...rangeFilters("inserted_at", sql`${sshPublicKeys.insertedAt}`, "datetime"),
    ...rangeFilters("updated_at", sql`${sshPublicKeys.updatedAt}`, "datetime"),
  },
  sortable: {
    key_name: sql`${sshPublicKeys.keyName}`,
    username: sql`${sshUsernames.username}`,
    cluster_name: sql`${clusters.name}`,
    inserted_at: sql`${sshPublicKeys.insertedAt}`,
    updated_at: sql`${sshPublicKeys.updatedAt}`,
  },
  defaultOrder: [{ field: "inserted_at", direction: "asc" }],
  tieBreaker: sql`${sshPublicKeys.id}`,
};

const idParam = { id: { schema: UuidParam, description: "SSH public key ID" } };

/** The 409 for a key blob the username already has. */
function duplicateKeyError(field: string, username: string): ApiError {
  return new ApiError("conflict", `This public key is already registered for SSH username "${username}"`, {
    [field]: ["has already been taken"],
  });
}

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
      const db = c.get("db");
      const [owner] = await db
        .select({ id: sshUsernames.id, username: sshUsernames.username })
        .from(sshUsernames)
        .where(eq(sshUsernames.id, params.ssh_username_id))
        .limit(1);
      if (!owner) throw new ApiError("not_found", "SSH username not found");
      const row = await newKeyRow(owner.id, body.key_name, body.public_key, Date.now());
      try {
        await db.insert(sshPublicKeys).values(row);
      } catch (err) {
        if (isUniqueViolation(err)) throw duplicateKeyError("public_key", owner.username);
        // The username was deleted meanwhile.
        if (isForeignKeyViolation(err)) throw new ApiError("not_found", "SSH username not found");
        throw err;
      }
      return respond(c, presentPublicKey(row), 201);
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
      list: listSpec,
      success: {
        status: 200,
        description: "Paginated list of SSH public keys",
        data: SshPublicKeySchema,
        paginated: true,
      },
    },
    async (c, { list }) => {
      const db = c.get("db");
      const q = list!;
      const { rows, pagination } = await listPage(
        db,
        q,
        selectKeys(db),
        db
          .select({ total: count() })
          .from(sshPublicKeys)
          .innerJoin(sshUsernames, eq(sshUsernames.id, sshPublicKeys.sshUsernameId))
          .innerJoin(nodes, eq(nodes.id, sshUsernames.nodeId))
          .innerJoin(clusters, eq(clusters.id, nodes.clusterId)),
      );
      return respondList(c, rows.map(presentPublicKey), pagination);
    },
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
    async (c, { params }) => {
      const [row] = await c
        .get("db")
        .select(keyColumns)
        .from(sshPublicKeys)
        .where(eq(sshPublicKeys.id, params.id))
        .limit(1);
      if (!row) throw new ApiError("not_found", "SSH public key not found");
      return respond(c, presentPublicKey(row));
    },
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
      const deleted = await c
        .get("db")
        .delete(sshPublicKeys)
        .where(eq(sshPublicKeys.id, params.id))
        .returning({ id: sshPublicKeys.id });
      if (deleted.length === 0) throw new ApiError("not_found", "SSH public key not found");
      return respondNoContent(c);
    },
  );
}
