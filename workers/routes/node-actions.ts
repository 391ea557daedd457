import type { Hono } from "hono";
import { nodeClusterName } from "../../src/access/cluster-scope";
import {
  ContainerActionRequest,
  ContainerIdParam,
  NodeActionResponseSchema,
  ServiceActionRequest,
  ServiceNameParam,
} from "../../src/node-actions/schema";
import { containerScript, serviceScript } from "../../src/node-actions/scripts";
import { UuidParam } from "../../src/schemas/common";
import { principalOf } from "../middleware/authorize";
import type { AppEnv } from "../middleware/request-context";
import { defineRoute } from "../openapi/define-route";
import { launchNodeAction } from "../services/node-action";

const TAG = "Nodes.Actions";
const nodeParam = { node_id: { schema: UuidParam, description: "Node ID" } };
const scope = { param: { name: "node_id", clusterName: nodeClusterName } };
/** How long a service or container action may run on the node. */
const ACTION_TIMEOUT_MS = 5 * 60_000;
const created = {
  status: 201,
  description: "The action's command and execution",
  data: NodeActionResponseSchema,
} as const;

/** Registers the typed node actions (beyond the contract, C23): service and container actions. */
export function registerNodeActionRoutes(app: Hono<AppEnv>): void {
  defineRoute(
    app,
    {
      method: "post",
      path: "/api/v1/nodes/{node_id}/services/{name}/actions",
      permission: "services:manage",
      clusterScope: scope,
      tag: TAG,
      summary: "Start, stop, restart, reload, enable or disable a systemd service",
      description:
        "Runs `systemctl <action> -- <name>` on the node as a typed command (the unit name must match `^[A-Za-z0-9@._:-]+\\.service$` and never reaches a shell unquoted). Follow the execution for the result. 503 when the node is unreachable.",
      params: {
        ...nodeParam,
        name: { schema: ServiceNameParam, description: "Service unit name, e.g. nginx.service" },
      },
      body: ServiceActionRequest,
      success: created,
      errors: [403, 404, 422, 503],
    },
    async (c, { params, body }) => ({
      data: await launchNodeAction(
        c.env,
        c.executionCtx,
        c.get("db"),
        params.node_id,
        {
          kind: "service",
          action: body.action,
          target: params.name,
          commandText: serviceScript(params.name, body.action),
          timeoutMs: ACTION_TIMEOUT_MS,
          expiredAt: Date.now() + ACTION_TIMEOUT_MS,
          requireOnline: true,
        },
        principalOf(c).clusterScope,
      ),
    }),
  );

  defineRoute(
    app,
    {
      method: "post",
      path: "/api/v1/nodes/{node_id}/containers/{container_id}/actions",
      permission: "containers:manage",
      clusterScope: scope,
      tag: TAG,
      summary: "Start, stop, restart, pause or unpause a container",
      description:
        "Runs `docker <action> [-t timeout_seconds] -- <container_id>` on the node as a typed command (the id is validated and quoted). Follow the execution for the result. 503 when the node is unreachable.",
      params: {
        ...nodeParam,
        container_id: { schema: ContainerIdParam, description: "Container id or name" },
      },
      body: ContainerActionRequest,
      success: created,
      errors: [403, 404, 422, 503],
    },
    async (c, { params, body }) => ({
      data: await launchNodeAction(
        c.env,
        c.executionCtx,
        c.get("db"),
        params.node_id,
        {
          kind: "container",
          action: body.action,
          target: params.container_id,
          commandText: containerScript(params.container_id, body.action, body.timeout_seconds),
          timeoutMs: ACTION_TIMEOUT_MS + (body.timeout_seconds ?? 0) * 1000,
          expiredAt: Date.now() + ACTION_TIMEOUT_MS,
          requireOnline: true,
        },
        principalOf(c).clusterScope,
      ),
    }),
  );
}
