import { count, sql } from "drizzle-orm";
import type { Hono } from "hono";
import * as v from "valibot";
import { describeError } from "../../src/db/errors";
import { selfUpdateRequests as sur } from "../../src/db/schema";
import type { ListSpec } from "../../src/list-query/engine";
import { enumFilter, rangeFilters } from "../../src/list-query/filters";
import { isLoopbackHostname } from "../../src/protocol/loopback";
import { DateTimeOutput, UuidOutput, UuidParam } from "../../src/schemas/common";
import { latestRelease } from "../gateway/releases";
import type { AppEnv } from "../middleware/request-context";
import { defineRoute } from "../openapi/define-route";
import { respond, respondList, respondNoContent } from "../respond";
import { listPage } from "../services/list-page";
import {
  createSelfUpdateRequest,
  deleteSelfUpdateRequest,
  getSelfUpdateRequest,
  presentSelfUpdateRequest,
  processSelfUpdateRequest,
  type Release,
} from "../services/self-update";
import { objectMessage, TargetingSchema } from "../services/targeting";

const TAG = "SelfUpdates.Request";
const STATUSES = ["pending", "processing", "completed"] as const;

const Sha256 = v.pipe(
  v.string("must be a string"),
  v.regex(/^[0-9a-fA-F]{64}$/, "must be a SHA-256 digest (64 hex characters)"),
  v.toLowerCase(),
);

const ReleaseInput = v.pipe(
  v.strictObject(
    {
      version: v.pipe(
        v.string("must be a string"),
        v.regex(
          /^[0-9A-Za-z][0-9A-Za-z.+_-]{0,63}$/,
          "must be a version such as 1.2.3 (at most 64 characters)",
        ),
        v.description("Version the bundle reports (the agent ignores the request when it already runs it)"),
      ),
      url: v.pipe(
        v.string("must be a string"),
        v.maxLength(2048, "must be at most 2048 characters"),
        v.check((raw) => {
          try {
            const url = new URL(raw);
            // Plain http only to loopback: the bundle is root code, and the checksum rides the same request.
            const transport =
              url.protocol === "https:" || (url.protocol === "http:" && isLoopbackHostname(url.hostname));
            return transport && !url.username && !url.password;
          } catch {
            return false;
          }
        }, "must be an https URL without credentials (http only to a loopback host)"),
        v.description("Where agents download the bundle; fetched by the agents, not by the server"),
      ),
      sha256: v.pipe(Sha256, v.description("SHA-256 of the bundle; agents refuse a download that differs")),
    },
    objectMessage,
  ),
  v.description(
    "Outpost extension: the agent release to roll out. Omitted: this server's own latest release (`GET /agent/v1/releases/latest`).",
  ),
);

const SelfUpdateRequestCreateRequest = v.pipe(
  v.strictObject(
    {
      targeting: TargetingSchema,
      release: v.optional(ReleaseInput),
      allow_downgrade: v.optional(
        v.pipe(
          v.boolean("must be true or false"),
          v.description(
            "Outpost extension: `true` lets agents running a newer version install this release; without it they refuse a downgrade",
          ),
        ),
      ),
    },
    objectMessage,
  ),
  v.title("SelfUpdateRequestCreateRequest"),
);

const TargetingOutput = v.object({
  type: v.picklist(["all", "nodes", "clusters"]),
  node_ids: v.optional(v.array(UuidOutput)),
  cluster_names: v.optional(v.array(v.string())),
  node_filters: v.optional(v.record(v.string(), v.unknown())),
  cluster_filters: v.optional(v.record(v.string(), v.unknown())),
});

const SelfUpdateRequestResponse = v.pipe(
  v.object({
    id: UuidOutput,
    inserted_at: DateTimeOutput,
    release: v.pipe(
      v.nullable(
        v.object({
          version: v.string(),
          url: v.string(),
          sha256: v.string(),
          allow_downgrade: v.optional(v.boolean()),
        }),
      ),
      v.description("Outpost extension: the release this request rolls out, pinned at creation"),
    ),
    status: v.pipe(v.picklist(STATUSES), v.description("Request processing status")),
    summary: v.pipe(
      v.nullable(v.object({ total: v.number(), triggered: v.number(), failed: v.number() })),
      v.description(
        "Available after completion: eligible nodes (`total`), nodes sent the update (`triggered`), and nodes not connected or not reachable (`failed`)",
      ),
    ),
    targeting: v.pipe(
      TargetingOutput,
      v.description(
        "Targeting as given, with `node_filters.status = healthy` and `node_filters.self_update_enabled = true` applied",
      ),
    ),
    updated_at: DateTimeOutput,
  }),
  v.title("SelfUpdateRequestResponse"),
);

const listSpec: ListSpec = {
  filters: {
    status: enumFilter(sql`${sur.status}`, STATUSES, "Filter by status"),
    ...rangeFilters("inserted_at", sql`${sur.insertedAt}`, "datetime"),
    ...rangeFilters("updated_at", sql`${sur.updatedAt}`, "datetime"),
  },
  sortable: {
    inserted_at: sql`${sur.insertedAt}`,
    updated_at: sql`${sur.updatedAt}`,
    status: sql`${sur.status}`,
  },
  defaultOrder: [{ field: "inserted_at", direction: "asc" }],
  tieBreaker: sql`${sur.id}`,
};

const idParam = { id: { schema: UuidParam, description: "Self-update request ID" } };

/** Registers `/api/v1/self_update_requests` (seed: SelfUpdates.Request). */
export function registerSelfUpdateRequestRoutes(app: Hono<AppEnv>): void {
  defineRoute(
    app,
    {
      method: "post",
      path: "/api/v1/self_update_requests",
      tag: TAG,
      summary: "Create a new self-update request",
      description:
        "Create a self-update request to trigger agent updates. Uses the same targeting as commands ('all', 'nodes' by `node_ids`, 'clusters' by `cluster_names`, narrowed by `node_filters` and `cluster_filters`); only healthy nodes with `self_update_enabled=true` are updated (those two filters are added to `node_filters`; contradicting them is 422). Unknown node ids or cluster names, and a targeting that matches no eligible node, are 422. The request is answered `pending` and processed asynchronously: each eligible node's agent, if connected, is sent the release (`edge.node.update_triggered`), then the request becomes `completed` with its `summary` (`edge.self_update_request.completed`). The release is this server's latest agent release unless the body names one (`release`, an Outpost extension); with no release built the answer is 503.",
      body: SelfUpdateRequestCreateRequest,
      success: { status: 201, description: "Self-update request created", data: SelfUpdateRequestResponse },
      errors: [422, 503],
    },
    async (c, { body }) => {
      const db = c.get("db");
      const downgrade = body.allow_downgrade ? { allow_downgrade: true } : {};
      const release = async (): Promise<Release> => {
        if (body.release) return { ...body.release, ...downgrade };
        const latest = await latestRelease(c);
        return { version: latest.version, url: latest.url, sha256: latest.sha256, ...downgrade };
      };
      const row = await createSelfUpdateRequest(db, { targeting: body.targeting, release });
      // A lost background run is picked up by the cron (see finishStaleSelfUpdateRequests).
      c.executionCtx.waitUntil(
        processSelfUpdateRequest(c.env, db, row.id).catch((err) =>
          console.warn(
            JSON.stringify({
              level: "warn",
              msg: "self-update processing failed; the cron will retry",
              request_id: row.id,
              error: describeError(err),
            }),
          ),
        ),
      );
      return respond(c, presentSelfUpdateRequest(row), 201);
    },
  );

  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/self_update_requests",
      tag: TAG,
      summary: "List all self-update requests",
      description: "Returns a paginated list of all self-update requests with filtering and sorting",
      list: listSpec,
      success: {
        status: 200,
        description: "Paginated list of self-update requests",
        data: SelfUpdateRequestResponse,
        paginated: true,
      },
    },
    async (c, { list }) => {
      const db = c.get("db");
      const q = list!;
      const { rows, pagination } = await listPage(
        db,
        q,
        db.select().from(sur),
        db.select({ total: count() }).from(sur),
      );
      return respondList(c, rows.map(presentSelfUpdateRequest), pagination);
    },
  );

  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/self_update_requests/{id}",
      tag: TAG,
      summary: "Get a specific self-update request",
      description: "Returns details for a specific self-update request by ID",
      params: idParam,
      success: { status: 200, description: "The self-update request", data: SelfUpdateRequestResponse },
      errors: [404],
    },
    async (c, { params }) =>
      respond(c, presentSelfUpdateRequest(await getSelfUpdateRequest(c.get("db"), params.id))),
  );

  defineRoute(
    app,
    {
      method: "delete",
      path: "/api/v1/self_update_requests/{id}",
      tag: TAG,
      summary: "Delete a self-update request",
      description:
        "Delete a self-update request. Only completed requests can be deleted; a pending or processing request is 409.",
      params: idParam,
      success: { status: 204, description: "Deleted", data: null },
      errors: [404, 409, 503],
    },
    async (c, { params }) => {
      await deleteSelfUpdateRequest(c.get("db"), params.id);
      return respondNoContent(c);
    },
  );
}
