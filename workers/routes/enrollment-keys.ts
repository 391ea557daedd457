import type { Hono } from "hono";
import * as v from "valibot";
import {
  assertClusterWritable,
  enrollmentKeyClusterName,
  namedCluster,
  SCOPE_COLUMNS,
} from "../../src/access/cluster-scope";
import { getClusterByName } from "../../src/clusters/store";
import { installCommand } from "../../src/enrollment-keys/install-command";
import { enrollmentKeyListSpec } from "../../src/enrollment-keys/list";
import { presentKey, presentKeys } from "../../src/enrollment-keys/present";
import { countOutstandingPublicKeys } from "../../src/enrollment-keys/public-keys";
import {
  EnrollmentKeyCreateRequest,
  EnrollmentKeyResponseSchema,
  EnrollmentKeyUpdateRequest,
  InstallCommandResponseSchema,
} from "../../src/enrollment-keys/schema";
import {
  createEnrollmentKey,
  deleteEnrollmentKey,
  getKeyById,
  type KeyMinting,
  listEnrollmentKeys,
  updateEnrollmentKey,
} from "../../src/enrollment-keys/store";
import { RateLimitedError } from "../../src/errors";
import { UuidParam } from "../../src/schemas/common";
import { ApiError } from "../errors";
import { principalOf } from "../middleware/authorize";
import { clientIp, enforceRateLimit } from "../middleware/rate-limit";
import type { AppContext, AppEnv } from "../middleware/request-context";
import { defineRoute } from "../openapi/define-route";
import { listRoute } from "../openapi/list-route";
import { publicOrigin } from "../public-origin";

const TAG = "Nodes.EnrollmentKey";

const single = {
  status: 201 as const,
  description: "Enrollment key created",
  data: EnrollmentKeyResponseSchema,
};
const idParam = { id: { schema: UuidParam, description: "Enrollment key ID" } };

// The blob names the server agents dial: PUBLIC_API_URL, else the origin this request came to (validated).
function minting(c: AppContext): KeyMinting {
  const config = c.get("config");
  return { encryptionKey: config.encryptionKey, server: publicOrigin(c) };
}

async function defaultCluster(c: AppContext) {
  const name = c.get("config").defaultClusterName;
  if (!name) throw new ApiError("forbidden", "No default cluster is configured (set DEFAULT_CLUSTER_NAME)");
  return getClusterByName(c.get("db"), name);
}

/** Registers enrollment key routes (the Edge Admin contract: Nodes.EnrollmentKey). */
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
        "No authentication. Only enabled when PUBLIC_ENROLLMENT_KEY_ENABLED=true and DEFAULT_CLUSTER_NAME are configured (403 otherwise; 404 when that cluster does not exist). Issues a single-use key that expires after PUBLIC_ENROLLMENT_KEY_TTL_SECONDS (default 3600); 429 `rate_limited` when PUBLIC_ENROLLMENT_KEY_MAX_OUTSTANDING unused public keys exist already, or past the per-client rate limit.",
      success: single,
      errors: [403, 404, 429, 503],
    },
    async (c) => {
      const config = c.get("config");
      await enforceRateLimit(
        c.env.PUBLIC_KEY_RATE_LIMITER,
        `public-key:${clientIp(c)}`,
        config.rateLimits.publicKey,
      );
      if (!config.publicEnrollmentKeyEnabled)
        throw new ApiError("forbidden", "Public enrollment keys are disabled");
      const cluster = await defaultCluster(c);
      const db = c.get("db");
      // Bounded (review M1): a short life, and a cap on unused ones anyone could stock up.
      if ((await countOutstandingPublicKeys(db)) >= config.publicEnrollmentKeyMaxOutstanding) {
        throw new RateLimitedError(
          60,
          "Too many unused public enrollment keys are outstanding; retry later or use an API-created key",
        );
      }
      const expiredAt = Date.now() + config.publicEnrollmentKeyTtlSeconds * 1000;
      const row = await createEnrollmentKey(db, minting(c), cluster, { expired_at: expiredAt }, "public");
      return { data: await presentKey(row, config.encryptionKey) };
    },
  );

  defineRoute(
    app,
    {
      method: "post",
      path: "/api/v1/clusters/default/enrollment_keys",
      permission: "enrollment_keys:write",
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
      assertClusterWritable(cluster.name, principalOf(c).clusterScope, "cluster_name");
      const row = await createEnrollmentKey(c.get("db"), minting(c), cluster, body);
      return { data: await presentKey(row, c.get("config").encryptionKey) };
    },
  );

  defineRoute(
    app,
    {
      method: "post",
      path: "/api/v1/clusters/{cluster_name}/enrollment_keys",
      permission: "enrollment_keys:write",
      clusterScope: { param: { name: "cluster_name", clusterName: namedCluster } },
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
      const row = await createEnrollmentKey(c.get("db"), minting(c), cluster, body);
      return { data: await presentKey(row, c.get("config").encryptionKey) };
    },
  );

  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/enrollment_keys",
      permission: "enrollment_keys:read",
      clusterScope: { list: SCOPE_COLUMNS.enrollmentKeys },
      audit: { read: true },
      tag: TAG,
      summary: "List enrollment keys",
      list: enrollmentKeyListSpec,
      success: {
        status: 200,
        description: "Paginated list of enrollment keys",
        data: EnrollmentKeyResponseSchema,
        paginated: true,
      },
    },
    listRoute({
      page: listEnrollmentKeys,
      present: (rows, c) => presentKeys(rows, c.get("config").encryptionKey),
    }),
  );

  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/enrollment_keys/{id}",
      permission: "enrollment_keys:read",
      clusterScope: { param: { name: "id", clusterName: enrollmentKeyClusterName } },
      audit: { read: true },
      tag: TAG,
      summary: "Get an enrollment key",
      params: idParam,
      success: { status: 200, description: "The enrollment key", data: EnrollmentKeyResponseSchema },
      errors: [404],
    },
    async (c, { params }) => ({
      data: await presentKey(await getKeyById(c.get("db"), params.id), c.get("config").encryptionKey),
    }),
  );

  defineRoute(
    app,
    {
      method: "post",
      path: "/api/v1/enrollment_keys/{id}/install_command",
      audit: { outsideBatch: "reveals the key, changes nothing: its event is written before the answer" },
      permission: "enrollment_keys:read",
      clusterScope: { param: { name: "id", clusterName: enrollmentKeyClusterName } },
      tag: TAG,
      summary: "Get the install command for an enrollment key",
      description:
        "The shell line that installs and enrols an agent with this key: the served `/install.sh` piped to `sh`, with the key passed as `ENROLLMENT_KEY` in the installer's environment rather than in the URL. The origin is PUBLIC_API_URL, else this request's origin.",
      params: idParam,
      success: { status: 200, description: "The install command", data: InstallCommandResponseSchema },
      errors: [404],
    },
    async (c, { params }) => {
      const key = await presentKey(await getKeyById(c.get("db"), params.id), c.get("config").encryptionKey);
      return { data: installCommand(publicOrigin(c), key.key) };
    },
  );

  defineRoute(
    app,
    {
      method: "patch",
      path: "/api/v1/enrollment_keys/{id}",
      permission: "enrollment_keys:write",
      clusterScope: { param: { name: "id", clusterName: enrollmentKeyClusterName } },
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
      const row = await updateEnrollmentKey(c.get("db"), params.id, body);
      return { data: await presentKey(row, c.get("config").encryptionKey) };
    },
  );

  defineRoute(
    app,
    {
      method: "delete",
      path: "/api/v1/enrollment_keys/{id}",
      permission: "enrollment_keys:write",
      clusterScope: { param: { name: "id", clusterName: enrollmentKeyClusterName } },
      tag: TAG,
      summary: "Delete an enrollment key",
      params: idParam,
      success: { status: 204, description: "Deleted", data: null },
      errors: [404, 503],
    },
    async (c, { params }) => {
      await deleteEnrollmentKey(c.get("db"), params.id);
      return undefined;
    },
  );
}
