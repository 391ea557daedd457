import type { Hono } from "hono";
import { SCOPE_TARGETINGS, selfUpdateTargeting } from "../../src/access/cluster-scope";
import { UuidParam } from "../../src/schemas/common";
import { selfUpdateRequestListSpec } from "../../src/self-update-requests/list";
import { presentSelfUpdateRequest, presentSelfUpdateRequests } from "../../src/self-update-requests/present";
import {
  SelfUpdateRequestCreateRequest,
  SelfUpdateRequestResponse,
} from "../../src/self-update-requests/schema";
import {
  deleteSelfUpdateRequest,
  getSelfUpdateRequest,
  listSelfUpdateRequests,
} from "../../src/self-update-requests/store";
import { latestRelease } from "../gateway/releases";
import { principalOf } from "../middleware/authorize";
import type { AppEnv } from "../middleware/request-context";
import { defineRoute } from "../openapi/define-route";
import { listRoute } from "../openapi/list-route";
import { createSelfUpdateRequest, processSelfUpdateRequest, type Release } from "../services/self-update";
import { narrowTargeting } from "../services/targeting";

const TAG = "SelfUpdates.Request";
const idParam = { id: { schema: UuidParam, description: "Self-update request ID" } };

/** Registers `/api/v1/self_update_requests` (the Edge Admin contract: SelfUpdates.Request). */
export function registerSelfUpdateRequestRoutes(app: Hono<AppEnv>): void {
  defineRoute(
    app,
    {
      method: "post",
      path: "/api/v1/self_update_requests",
      permission: "self_update:write",
      tag: TAG,
      summary: "Create a new self-update request",
      description:
        "Create a self-update request to trigger agent updates. Uses the same targeting as commands ('all', 'nodes' by `node_ids`, 'clusters' by `cluster_names`, narrowed by `node_filters` and `cluster_filters`); only healthy nodes with `self_update_enabled=true` are updated (those two filters are added to `node_filters`; contradicting them is 422). Unknown node ids or cluster names, and a targeting that matches no eligible node, are 422. The request is answered `pending` and processed asynchronously: each eligible node's agent, if connected, is sent the release (`edge.node.update_triggered`), then the request becomes `completed` with its `summary` (`edge.self_update_request.completed`). The release is this server's latest agent release unless the body names one (`release`, an Outpost extension); with no release built the answer is 503. For a cluster-scoped token the stored targeting is narrowed to its clusters (403 when no target is left). With `max_concurrency` (an Outpost extension) it is a rollout: at most that many agents update at a time, each slot held until its agent says hello on the release's version (10 minutes at most); past `max_errors` failed nodes the rollout stops and the waiting nodes are cancelled; the request completes once no node waits or updates (`rollout` shows the tally).",
      body: SelfUpdateRequestCreateRequest,
      success: { status: 201, description: "Self-update request created", data: SelfUpdateRequestResponse },
      errors: [403, 422, 503],
    },
    async (c, { body }) => {
      const db = c.get("db");
      const downgrade = body.allow_downgrade ? { allow_downgrade: true } : {};
      const release = async (): Promise<Release> => {
        if (body.release) return { ...body.release, ...downgrade };
        const latest = await latestRelease(c);
        return { version: latest.version, url: latest.url, sha256: latest.sha256, ...downgrade };
      };
      // A cluster-scoped token's request is stored narrowed, so the later (cron) resolution stays in scope.
      const targeting = await narrowTargeting(db, body.targeting, principalOf(c).clusterScope);
      const rollout = {
        max_concurrency: body.max_concurrency,
        max_errors: body.max_errors,
        rollout_order: body.rollout_order,
      };
      const row = await createSelfUpdateRequest(db, { targeting, release, rollout });
      // A lost background run is picked up by the cron (see finishStaleSelfUpdateRequests).
      c.executionCtx.waitUntil(
        processSelfUpdateRequest(c.env, db, row.id).catch((err) =>
          c.get("log").warn("self-update processing failed; the cron will retry", {
            self_update_request_id: row.id,
            error: err,
          }),
        ),
      );
      return { data: presentSelfUpdateRequest(row) };
    },
  );

  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/self_update_requests",
      clusterScope: { targeting: { list: SCOPE_TARGETINGS.selfUpdates } },
      permission: "self_update:read",
      tag: TAG,
      summary: "List all self-update requests",
      description: "Returns a paginated list of all self-update requests with filtering and sorting",
      list: selfUpdateRequestListSpec,
      success: {
        status: 200,
        description: "Paginated list of self-update requests",
        data: SelfUpdateRequestResponse,
        paginated: true,
      },
    },
    listRoute({
      page: listSelfUpdateRequests,
      present: (rows, c) => presentSelfUpdateRequests(c.get("db"), rows),
    }),
  );

  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/self_update_requests/{id}",
      clusterScope: { targeting: { param: { name: "id", targeting: selfUpdateTargeting } } },
      permission: "self_update:read",
      tag: TAG,
      summary: "Get a specific self-update request",
      description: "Returns details for a specific self-update request by ID",
      params: idParam,
      success: { status: 200, description: "The self-update request", data: SelfUpdateRequestResponse },
      errors: [404],
    },
    async (c, { params }) => ({
      data: (
        await presentSelfUpdateRequests(c.get("db"), [await getSelfUpdateRequest(c.get("db"), params.id)])
      )[0],
    }),
  );

  defineRoute(
    app,
    {
      method: "delete",
      path: "/api/v1/self_update_requests/{id}",
      clusterScope: { targeting: { param: { name: "id", targeting: selfUpdateTargeting } } },
      permission: "self_update:write",
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
      return undefined;
    },
  );
}
