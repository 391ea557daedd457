import type { Hono } from "hono";
import * as v from "valibot";
import { assertClusterWritable, namedCluster, SCOPE_COLUMNS } from "../../src/access/cluster-scope";
import { clusterListSpec } from "../../src/clusters/list";
import { presentCluster, presentClusters } from "../../src/clusters/present";
import { ClusterCreateRequest, ClusterResponseSchema, ClusterUpdateRequest } from "../../src/clusters/schema";
import {
  createCluster,
  deleteEmptyCluster,
  getClusterByName,
  listClusters,
  reachableClusterNodeIds,
  setClusterMetricsDetailInterval,
  setClusterNodeLimit,
} from "../../src/clusters/store";
import { auditInBatch } from "../audit/in-batch";
import { principalOf } from "../middleware/authorize";
import type { AppEnv } from "../middleware/request-context";
import { defineRoute } from "../openapi/define-route";
import { listRoute } from "../openapi/list-route";
import { scheduleClusterConfigPush } from "../services/cluster-config";

const TAG = "Nodes.Cluster";

const nameParam = { name: { schema: v.string(), description: "Cluster name" } };

/** Registers `/api/v1/clusters` (the Edge Admin contract's Nodes.Cluster). */
export function registerClusterRoutes(app: Hono<AppEnv>): void {
  defineRoute(
    app,
    {
      method: "post",
      path: "/api/v1/clusters",
      permission: "clusters:write",
      tag: TAG,
      summary: "Create a new cluster",
      description:
        "Create a new edge cluster with optional IP range. The name `default` is reserved and rejected with 422.",
      body: ClusterCreateRequest,
      success: { status: 201, description: "Cluster created", data: ClusterResponseSchema },
      errors: [409, 422, 503],
    },
    async (c, { body }) => {
      const db = c.get("db");
      // A scoped token could never see the cluster it made; naming one of its own is already a 409.
      assertClusterWritable(body.name, principalOf(c).clusterScope, "name");
      return { data: await presentCluster(db, await createCluster(db, c.get("config"), body)) };
    },
  );

  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/clusters",
      permission: "clusters:read",
      clusterScope: { list: SCOPE_COLUMNS.clusters },
      tag: TAG,
      summary: "List all clusters",
      list: clusterListSpec,
      success: {
        status: 200,
        description: "Paginated list of clusters",
        data: ClusterResponseSchema,
        paginated: true,
      },
    },
    listRoute({ page: listClusters, present: (rows, c) => presentClusters(c.get("db"), rows) }),
  );

  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/clusters/{name}",
      permission: "clusters:read",
      clusterScope: { param: { name: "name", clusterName: namedCluster } },
      tag: TAG,
      summary: "Get a specific cluster",
      params: nameParam,
      success: { status: 200, description: "The cluster", data: ClusterResponseSchema },
      errors: [404],
    },
    async (c, { params }) => {
      const db = c.get("db");
      return { data: await presentCluster(db, await getClusterByName(db, params.name)) };
    },
  );

  defineRoute(
    app,
    {
      method: "patch",
      path: "/api/v1/clusters/{name}",
      permission: "clusters:write",
      clusterScope: { param: { name: "name", clusterName: namedCluster } },
      tag: TAG,
      summary: "Update a cluster",
      description: "Only provided fields are changed. Pass null to unset a nullable field.",
      params: nameParam,
      body: ClusterUpdateRequest,
      success: { status: 200, description: "The updated cluster", data: ClusterResponseSchema },
      errors: [404, 422, 503],
    },
    async (c, { params, body }) => {
      const db = c.get("db");
      const row = await getClusterByName(db, params.name);
      let updated = body.node_limit === undefined ? row : await setClusterNodeLimit(db, row, body.node_limit);
      const interval = body.metrics_detail_interval_seconds;
      if (interval !== undefined && interval !== updated.metricsDetailIntervalSeconds) {
        updated = await setClusterMetricsDetailInterval(db, updated, interval);
        // Connected agents follow the new interval now, after the answer is sent (a large cluster
        // through the dispatch queue, past one request's subrequest limit).
        const ids = await reachableClusterNodeIds(db, updated.id);
        await scheduleClusterConfigPush(c.env, c.executionCtx, ids);
      }
      return { data: await presentCluster(db, updated) };
    },
  );

  defineRoute(
    app,
    {
      method: "delete",
      path: "/api/v1/clusters/{name}",
      permission: "clusters:write",
      clusterScope: { param: { name: "name", clusterName: namedCluster } },
      tag: TAG,
      summary: "Delete a cluster",
      description: "Delete an empty cluster (must have no nodes).",
      params: nameParam,
      success: { status: 204, description: "Deleted", data: null },
      errors: [404, 409, 503],
    },
    async (c, { params }) => {
      const db = c.get("db");
      const row = await getClusterByName(db, params.name);
      await deleteEmptyCluster(db, row, [
        auditInBatch(c, db, "cluster.deleted", { type: "cluster", id: params.name, status: 204 }),
      ]);
    },
  );
}
