import type { Hono } from "hono";
import * as v from "valibot";
import { nodeClusterName, SCOPE_COLUMNS } from "../../src/access/cluster-scope";
import { fleetSoftwareListSpec, nodeSoftwareListSpec } from "../../src/inventory/list";
import {
  presentFleetPackages,
  presentInventory,
  presentPackages,
  presentSection,
} from "../../src/inventory/present";
import {
  FleetPackageSchema,
  InventoryRefreshAcceptedSchema,
  InventoryRefreshRequestBody,
  InventorySectionSchema,
  NodeInventorySchema,
  NodePackageSchema,
  NodeUpdatesSchema,
} from "../../src/inventory/schema";
import { getSection, listFleetPackages, listNodePackages, listSections } from "../../src/inventory/store";
import { getNode } from "../../src/nodes/store";
import { INVENTORY_SECTIONS, UpdatesData } from "../../src/protocol/inventory-sections";
import { UuidParam } from "../../src/schemas/common";
import { isoSeconds } from "../../src/time";
import type { AppEnv } from "../middleware/request-context";
import { defineRoute } from "../openapi/define-route";
import { listRoute } from "../openapi/list-route";
import { refreshNode } from "../services/inventory-refresh";

const TAG = "Nodes.Inventory";

const nodeParam = { node_id: { schema: UuidParam, description: "Node ID" } };
const sectionParam = {
  ...nodeParam,
  section: {
    schema: v.picklist(INVENTORY_SECTIONS, `must be one of: ${INVENTORY_SECTIONS.join(", ")}`),
    description: "Inventory section",
  },
};

/** Registers a node's host inventory, its packages, its pending updates, and the fleet software search. */
export function registerInventoryRoutes(app: Hono<AppEnv>): void {
  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/nodes/{node_id}/inventory",
      permission: "nodes:read",
      clusterScope: { param: { name: "node_id", clusterName: nodeClusterName } },
      tag: TAG,
      summary: "Get a node's host inventory",
      description:
        "Every section the node's agent has reported (system, hardware, storage, network, users, groups, software, services, containers, listening_ports, updates), each with `collected_at`. Read from storage: never waits for the agent.",
      params: nodeParam,
      success: { status: 200, description: "The node's inventory", data: NodeInventorySchema },
      errors: [404],
    },
    async (c, { params }) => {
      const db = c.get("db");
      await getNode(db, params.node_id);
      return { data: presentInventory(params.node_id, await listSections(db, params.node_id)) };
    },
  );

  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/nodes/{node_id}/inventory/{section}",
      permission: "nodes:read",
      clusterScope: { param: { name: "node_id", clusterName: nodeClusterName } },
      tag: TAG,
      summary: "Get one inventory section of a node",
      params: sectionParam,
      success: { status: 200, description: "The section", data: InventorySectionSchema },
      errors: [404],
    },
    async (c, { params }) => {
      const db = c.get("db");
      await getNode(db, params.node_id);
      return { data: presentSection(await getSection(db, params.node_id, params.section)) };
    },
  );

  defineRoute(
    app,
    {
      method: "patch",
      path: "/api/v1/nodes/{node_id}/inventory/refresh",
      audit: { outsideBatch: "only asks the node's session; nothing is stored" },
      permission: "nodes:write",
      clusterScope: { param: { name: "node_id", clusterName: nodeClusterName } },
      tag: TAG,
      summary: "Ask a node to collect its inventory now",
      description:
        "The agent collects the sections and reports them; the stored inventory changes when it answers (follow `edge.node.inventory_changed` or read the inventory again). 503 when the agent is not connected, 409 when it is too old to collect inventory.",
      params: nodeParam,
      body: InventoryRefreshRequestBody,
      success: { status: 202, description: "Asked", data: InventoryRefreshAcceptedSchema },
      errors: [404, 409, 422, 503],
    },
    async (c, { params, body }) => {
      const sections = body.sections ?? [];
      const refreshCache = body.refresh_cache ?? false;
      await refreshNode(c.env, c.get("db"), params.node_id, sections, refreshCache);
      return {
        data: {
          node_id: params.node_id,
          sections: sections.length > 0 ? sections : [...INVENTORY_SECTIONS],
          refresh_cache: refreshCache,
          requested_at: isoSeconds(Date.now()),
        },
      };
    },
  );

  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/nodes/{node_id}/software",
      permission: "nodes:read",
      clusterScope: { param: { name: "node_id", clusterName: nodeClusterName } },
      tag: TAG,
      summary: "List a node's installed packages",
      params: nodeParam,
      list: nodeSoftwareListSpec,
      success: { status: 200, description: "Paginated packages", data: NodePackageSchema, paginated: true },
      errors: [404],
    },
    listRoute({
      page: async (db, q, params: { node_id: string }) => {
        await getNode(db, params.node_id);
        return listNodePackages(db, q, params.node_id);
      },
      present: presentPackages,
    }),
  );

  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/nodes/{node_id}/updates",
      permission: "nodes:read",
      clusterScope: { param: { name: "node_id", clusterName: nodeClusterName } },
      tag: TAG,
      summary: "Get a node's pending OS updates",
      description:
        "The `updates` section: package manager, pending updates with current and candidate versions and a security flag, counts, reboot-required and the packages that require it.",
      params: nodeParam,
      success: { status: 200, description: "The node's pending updates", data: NodeUpdatesSchema },
      errors: [404],
    },
    async (c, { params }) => {
      const db = c.get("db");
      await getNode(db, params.node_id);
      const section = presentSection(await getSection(db, params.node_id, "updates"));
      const updates = v.safeParse(UpdatesData, section.data);
      return {
        data: {
          node_id: params.node_id,
          status: section.status,
          reason: section.reason,
          collected_at: section.collected_at,
          updates: section.status === "ok" && updates.success ? updates.output : null,
        },
      };
    },
  );

  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/software",
      permission: "nodes:read",
      clusterScope: { list: SCOPE_COLUMNS.packages },
      tag: TAG,
      summary: "Search the fleet's installed software",
      description:
        "One row per package name and version with the number of nodes that have it, e.g. `?name=openssl*&version=3.0.*`. `GET /api/v1/nodes?package=openssl&package_version=3.0.2` lists those nodes.",
      list: fleetSoftwareListSpec,
      success: {
        status: 200,
        description: "Paginated package versions",
        data: FleetPackageSchema,
        paginated: true,
      },
    },
    listRoute({ page: listFleetPackages, present: presentFleetPackages }),
  );
}
