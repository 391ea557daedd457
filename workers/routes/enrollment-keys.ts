import { count, eq, sql } from "drizzle-orm";
import type { Hono } from "hono";
import * as v from "valibot";
import { getClusterByName } from "../../src/clusters/store";
import { sha256Hex } from "../../src/crypto/secrets";
import { clusters, enrollmentKeys } from "../../src/db/schema";
import { decodeKeyBlob } from "../../src/enrollment/key-blob";
import type { ListSpec } from "../../src/list-query/engine";
import {
  booleanFilter,
  integerFilter,
  presenceFilter,
  rangeFilters,
  textFilter,
} from "../../src/list-query/filters";
import { DateTimeOutput, FutureDateTimeInput, UuidOutput, UuidParam } from "../../src/schemas/common";
import { ApiError } from "../errors";
import type { AppContext, AppEnv } from "../middleware/request-context";
import { defineRoute } from "../openapi/define-route";
import { respond, respondList, respondNoContent } from "../respond";
import { createEnrollmentKey, getKeyById, keyWithCluster, presentKey } from "../services/enrollment-keys";
import { listPage } from "../services/list-page";

const TAG = "Nodes.EnrollmentKey";

const KeyName = v.nullable(
  v.pipe(v.string("must be a string"), v.maxLength(255, "must be at most 255 characters")),
);
const UsesRemaining = v.nullable(
  v.pipe(
    v.number("must be an integer"),
    v.integer("must be an integer"),
    v.minValue(1, "must be greater than or equal to 1"),
  ),
);
const ExpiredAt = v.nullable(FutureDateTimeInput);

const EnrollmentKeyCreateRequest = v.pipe(
  v.strictObject({
    name: v.optional(KeyName),
    uses_remaining: v.optional(UsesRemaining),
    expired_at: v.optional(ExpiredAt),
  }),
  v.title("EnrollmentKeyCreateRequest"),
);
const EnrollmentKeyUpdateRequest = v.pipe(
  v.strictObject({
    name: v.optional(KeyName),
    uses_remaining: v.optional(UsesRemaining),
    expired_at: v.optional(ExpiredAt),
  }),
  v.title("EnrollmentKeyUpdateRequest"),
);

const EnrollmentKeyResponseSchema = v.pipe(
  v.object({
    cluster_name: v.string(),
    expired_at: v.nullable(DateTimeOutput),
    id: UuidOutput,
    inserted_at: DateTimeOutput,
    key: v.pipe(
      v.string(),
      v.description("Enrollment key blob (base64 JSON). Set as ENROLLMENT_KEY on the agent."),
    ),
    last_used_at: v.nullable(DateTimeOutput),
    name: v.nullable(v.string()),
    updated_at: DateTimeOutput,
    uses_remaining: v.nullable(v.number()),
  }),
  v.title("EnrollmentKeyResponse"),
);

const k = enrollmentKeys;
const listSpec: ListSpec = {
  filters: {
    cluster_name: textFilter(
      sql`${clusters.name}`,
      "Filter by cluster name (exact match or wildcard: prod*, *east)",
    ),
    name: textFilter(
      sql`${k.name}`,
      "Filter by enrollment key name (case-insensitive substring or wildcard)",
      {
        caseInsensitive: true,
        substring: true,
      },
    ),
    key: {
      description: "Filter by exact key value (the blob returned as `key`)",
      type: "string",
      parse: (raw) =>
        raw.length > 0 && raw.length <= 4096 ? { value: raw } : { error: "must be 1–4096 characters" },
      // Keys are stored hashed: hash the secret inside the blob (or the raw value) and compare hashes.
      toSql: async (raw: string) => sql`${k.keyHash} = ${await sha256Hex(decodeKeyBlob(raw)?.key ?? raw)}`,
    },
    has_expiry: presenceFilter(sql`${k.expiredAt}`, "Filter by whether the key has an expiry set"),
    has_name: presenceFilter(sql`${k.name}`, "Filter by whether the key has a name set"),
    is_expired: booleanFilter("Filter by whether the key is expired (expired_at in the past)", (expired) =>
      expired
        ? sql`(${k.expiredAt} IS NOT NULL AND ${k.expiredAt} <= ${Date.now()})`
        : sql`(${k.expiredAt} IS NULL OR ${k.expiredAt} > ${Date.now()})`,
    ),
    is_never_used: booleanFilter(
      "Filter by whether the key has never been used (last_used_at is null)",
      (never) => (never ? sql`${k.lastUsedAt} IS NULL` : sql`${k.lastUsedAt} IS NOT NULL`),
    ),
    is_spent: booleanFilter("Filter by whether the key is exhausted (uses_remaining == 0)", (spent) =>
      spent ? sql`${k.usesRemaining} = 0` : sql`(${k.usesRemaining} IS NULL OR ${k.usesRemaining} > 0)`,
    ),
    is_unlimited: booleanFilter(
      "Filter by whether the key has unlimited uses (uses_remaining is null)",
      (unlimited) => (unlimited ? sql`${k.usesRemaining} IS NULL` : sql`${k.usesRemaining} IS NOT NULL`),
    ),
    uses_remaining: integerFilter(sql`${k.usesRemaining}`, "Filter by exact uses_remaining"),
    ...rangeFilters("uses_remaining", sql`${k.usesRemaining}`, "integer"),
    ...rangeFilters("expired_at", sql`${k.expiredAt}`, "datetime"),
    ...rangeFilters("last_used_at", sql`${k.lastUsedAt}`, "datetime"),
    ...rangeFilters("inserted_at", sql`${k.insertedAt}`, "datetime"),
    ...rangeFilters("updated_at", sql`${k.updatedAt}`, "datetime"),
  },
  sortable: {
    name: sql`${k.name}`,
    cluster_name: sql`${clusters.name}`,
    uses_remaining: sql`${k.usesRemaining}`,
    expired_at: sql`${k.expiredAt}`,
    last_used_at: sql`${k.lastUsedAt}`,
    inserted_at: sql`${k.insertedAt}`,
    updated_at: sql`${k.updatedAt}`,
  },
  defaultOrder: [{ field: "inserted_at", direction: "asc" }],
  tieBreaker: sql`${k.id}`,
};

const single = {
  status: 201 as const,
  description: "Enrollment key created",
  data: EnrollmentKeyResponseSchema,
};
const idParam = { id: { schema: UuidParam, description: "Enrollment key ID" } };

function requestOrigin(c: AppContext): string {
  return new URL(c.req.url).origin;
}

async function defaultCluster(c: AppContext) {
  const name = c.get("config").defaultClusterName;
  if (!name) throw new ApiError("forbidden", "No default cluster is configured (set DEFAULT_CLUSTER_NAME)");
  return getClusterByName(c.get("db"), name);
}

/** Registers enrollment key routes (seed: Nodes.EnrollmentKey). */
export function registerEnrollmentKeyRoutes(app: Hono<AppEnv>): void {
  // The `default` routes come first: `default` is a reserved cluster name, never a real one.
  defineRoute(
    app,
    {
      method: "post",
      path: "/api/v1/clusters/default/enrollment_keys/public",
      tag: TAG,
      public: true,
      summary: "Get a public enrollment key for the default cluster",
      description:
        "No authentication. Only enabled when PUBLIC_ENROLLMENT_KEY_ENABLED=true and DEFAULT_CLUSTER_NAME are configured (403 otherwise; 404 when that cluster does not exist). Issues a single-use key with no expiry.",
      success: single,
      errors: [403, 404, 503],
    },
    async (c) => {
      const config = c.get("config");
      if (!config.publicEnrollmentKeyEnabled)
        throw new ApiError("forbidden", "Public enrollment keys are disabled");
      const cluster = await defaultCluster(c);
      const row = await createEnrollmentKey(c.get("db"), config, cluster, {}, requestOrigin(c));
      return respond(c, await presentKey(row, config), 201);
    },
  );

  defineRoute(
    app,
    {
      method: "post",
      path: "/api/v1/clusters/default/enrollment_keys",
      tag: TAG,
      summary: "Create an enrollment key for the default cluster",
      description:
        "Convenience endpoint for the cluster named by DEFAULT_CLUSTER_NAME (403 when unset, 404 when it does not exist).",
      body: EnrollmentKeyCreateRequest,
      success: single,
      errors: [403, 404, 422, 503],
    },
    async (c, { body }) => {
      const cluster = await defaultCluster(c);
      const row = await createEnrollmentKey(c.get("db"), c.get("config"), cluster, body, requestOrigin(c));
      return respond(c, await presentKey(row, c.get("config")), 201);
    },
  );

  defineRoute(
    app,
    {
      method: "post",
      path: "/api/v1/clusters/{cluster_name}/enrollment_keys",
      tag: TAG,
      summary: "Create an enrollment key for a cluster",
      description:
        "The returned `key` blob is set as ENROLLMENT_KEY on the agent. Omit both uses_remaining and expired_at for a single-use key with no expiry.",
      params: { cluster_name: { schema: v.string(), description: "Cluster name" } },
      body: EnrollmentKeyCreateRequest,
      success: single,
      errors: [404, 422, 503],
    },
    async (c, { params, body }) => {
      const cluster = await getClusterByName(c.get("db"), params.cluster_name);
      const row = await createEnrollmentKey(c.get("db"), c.get("config"), cluster, body, requestOrigin(c));
      return respond(c, await presentKey(row, c.get("config")), 201);
    },
  );

  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/enrollment_keys",
      tag: TAG,
      summary: "List enrollment keys",
      list: listSpec,
      success: {
        status: 200,
        description: "Paginated list of enrollment keys",
        data: EnrollmentKeyResponseSchema,
        paginated: true,
      },
    },
    async (c, { list }) => {
      const db = c.get("db");
      const q = list!;
      const joined = eq(clusters.id, k.clusterId);
      const { rows, pagination } = await listPage(
        db,
        q,
        db.select(keyWithCluster).from(k).innerJoin(clusters, joined),
        db.select({ total: count() }).from(k).innerJoin(clusters, joined),
      );
      const data = await Promise.all(rows.map((row) => presentKey(row, c.get("config"))));
      return respondList(c, data, pagination);
    },
  );

  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/enrollment_keys/{id}",
      tag: TAG,
      summary: "Get an enrollment key",
      params: idParam,
      success: { status: 200, description: "The enrollment key", data: EnrollmentKeyResponseSchema },
      errors: [404],
    },
    async (c, { params }) =>
      respond(c, await presentKey(await getKeyById(c.get("db"), params.id), c.get("config"))),
  );

  defineRoute(
    app,
    {
      method: "patch",
      path: "/api/v1/enrollment_keys/{id}",
      tag: TAG,
      summary: "Update an enrollment key",
      description:
        "Only fields present in the body change; pass null to unset name, make uses unlimited, or remove expiry.",
      params: idParam,
      body: EnrollmentKeyUpdateRequest,
      success: { status: 200, description: "The updated enrollment key", data: EnrollmentKeyResponseSchema },
      errors: [404, 422, 503],
    },
    async (c, { params, body }) => {
      const db = c.get("db");
      const changes: Partial<typeof k.$inferInsert> = {};
      if (body.name !== undefined) changes.name = body.name;
      if (body.uses_remaining !== undefined) changes.usesRemaining = body.uses_remaining;
      if (body.expired_at !== undefined) changes.expiredAt = body.expired_at;
      if (Object.keys(changes).length > 0) {
        const updated = await db
          .update(k)
          .set({ ...changes, updatedAt: Date.now() })
          .where(eq(k.id, params.id))
          .returning({ id: k.id });
        if (updated.length === 0) throw new ApiError("not_found", "Enrollment key not found");
      }
      return respond(c, await presentKey(await getKeyById(db, params.id), c.get("config")));
    },
  );

  defineRoute(
    app,
    {
      method: "delete",
      path: "/api/v1/enrollment_keys/{id}",
      tag: TAG,
      summary: "Delete an enrollment key",
      params: idParam,
      success: { status: 204, description: "Deleted", data: null },
      errors: [404, 503],
    },
    async (c, { params }) => {
      const deleted = await c.get("db").delete(k).where(eq(k.id, params.id)).returning({ id: k.id });
      if (deleted.length === 0) throw new ApiError("not_found", "Enrollment key not found");
      return respondNoContent(c);
    },
  );
}
