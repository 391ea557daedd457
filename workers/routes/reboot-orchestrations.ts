import type { Hono } from "hono";
import { nodeClusterName } from "../../src/access/cluster-scope";
import { rebootOrchestrationListSpec } from "../../src/reboot-orchestrations/list";
import { presentRebootOrchestration } from "../../src/reboot-orchestrations/present";
import {
  RebootOrchestrationRequest,
  RebootOrchestrationResponseSchema,
  RebootPrecheckResponseSchema,
} from "../../src/reboot-orchestrations/schema";
import { getRebootOrchestration, listRebootOrchestrations } from "../../src/reboot-orchestrations/store";
import { UuidParam } from "../../src/schemas/common";
import { principalOf } from "../middleware/authorize";
import type { AppEnv } from "../middleware/request-context";
import { defineRoute } from "../openapi/define-route";
import { listRoute } from "../openapi/list-route";
import {
  cancelOrchestration,
  rebootPrecheck,
  startRebootOrchestration,
} from "../services/reboot-orchestration";

const TAG = "Nodes.RebootOrchestrations";
const nodeParam = { node_id: { schema: UuidParam, description: "Node ID (the parent)" } };
const nodeScope = { param: { name: "node_id", clusterName: nodeClusterName } } as const;
const idParam = { id: { schema: UuidParam, description: "Reboot orchestration ID" } };

/** Registers orchestrated reboots of a parent with child hosts (beyond the contract, C10). */
export function registerRebootOrchestrationRoutes(app: Hono<AppEnv>): void {
  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/nodes/{node_id}/reboot_precheck",
      permission: "power:read",
      clusterScope: nodeScope,
      tag: TAG,
      summary: "Which child hosts a reboot of this node would take down",
      description:
        "The node's containers and VMs (LXD, Incus, Docker, Podman, libvirt, systemd-nspawn) as its agent last reported them in the `children` inventory section (`reported_at`).",
      params: nodeParam,
      success: { status: 200, description: "The pre-check", data: RebootPrecheckResponseSchema },
      errors: [403, 404],
    },
    async (c, { params }) => ({ data: await rebootPrecheck(c.get("db"), params.node_id) }),
  );

  defineRoute(
    app,
    {
      method: "post",
      path: "/api/v1/nodes/{node_id}/reboot_orchestrations",
      permission: "power:manage",
      clusterScope: nodeScope,
      tag: TAG,
      summary: "Reboot a parent node around its running child hosts",
      description:
        "Stops the children running now (each given `shutdown_timeout_seconds`), reboots the node as a power action, waits for its agent to say hello with a new boot id (at most 15 minutes), then starts again only the children that were running. The node's session drives it step by step; each step is a typed command. 400 when the node's agent is not connected or no child runs on it; 409 when one is already in progress for the node.",
      params: nodeParam,
      body: RebootOrchestrationRequest,
      success: { status: 201, description: "The orchestration", data: RebootOrchestrationResponseSchema },
      errors: [403, 404, 409, 422],
    },
    async (c, { params, body }) => ({
      data: await startRebootOrchestration(c.env, c.get("db"), params.node_id, body, principalOf(c)),
    }),
  );

  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/reboot_orchestrations",
      permission: "power:read",
      tag: TAG,
      summary: "List reboot orchestrations",
      list: rebootOrchestrationListSpec,
      success: {
        status: 200,
        description: "Paginated reboot orchestrations",
        data: RebootOrchestrationResponseSchema,
        paginated: true,
      },
    },
    listRoute({ page: listRebootOrchestrations, present: (rows) => rows.map(presentRebootOrchestration) }),
  );

  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/reboot_orchestrations/{id}",
      permission: "power:read",
      tag: TAG,
      summary: "Get a reboot orchestration",
      params: idParam,
      success: { status: 200, description: "The orchestration", data: RebootOrchestrationResponseSchema },
      errors: [404],
    },
    async (c, { params }) => ({
      data: presentRebootOrchestration(await getRebootOrchestration(c.get("db"), params.id)),
    }),
  );

  defineRoute(
    app,
    {
      method: "patch",
      path: "/api/v1/reboot_orchestrations/{id}/cancel",
      permission: "power:manage",
      tag: TAG,
      summary: "Cancel a reboot orchestration before the reboot is issued",
      description:
        "Only while `pending` or `shutting_down`; children already stopped are started again (see `child_hosts_restart_status`). 409 once the reboot is issued or it is over.",
      params: idParam,
      success: {
        status: 200,
        description: "The cancelled orchestration",
        data: RebootOrchestrationResponseSchema,
      },
      errors: [404, 409],
    },
    async (c, { params }) => ({ data: await cancelOrchestration(c.env, c.get("db"), params.id) }),
  );
}
