import type { Hono } from "hono";
import * as v from "valibot";
import { nodeClusterName } from "../../src/access/cluster-scope";
import { FleetPowerActionRequest, PowerActionRequest } from "../../src/node-actions/schema";
import { powerActionListSpec } from "../../src/power-actions/list";
import { presentPowerAction } from "../../src/power-actions/present";
import { PowerActionResponseSchema } from "../../src/power-actions/schema";
import { getPowerAction, listPowerActions } from "../../src/power-actions/store";
import { UuidParam } from "../../src/schemas/common";
import { principalOf } from "../middleware/authorize";
import type { AppEnv } from "../middleware/request-context";
import { defineRoute } from "../openapi/define-route";
import { listRoute } from "../openapi/list-route";
import { cancelPowerAction, createFleetPowerActions, createPowerAction } from "../services/power-action";

const TAG = "Nodes.PowerActions";
const idParam = { id: { schema: UuidParam, description: "Power action ID" } };

/** Registers the power actions (beyond the contract, C9): schedule on a node, list, read, cancel. */
export function registerPowerActionRoutes(app: Hono<AppEnv>): void {
  defineRoute(
    app,
    {
      method: "post",
      path: "/api/v1/nodes/{node_id}/power_actions",
      permission: "power:manage",
      clusterScope: { param: { name: "node_id", clusterName: nodeClusterName } },
      tag: TAG,
      summary: "Reboot or shut down a node",
      description:
        "Schedules a reboot or power-off `delay_seconds` from now (at least 5, so the agent reports first) outside the agent's process (a transient systemd timer `outpost-power-<id>`, else `shutdown -r|-P +minutes`), as a typed command whose execution reports whether it was scheduled. `confirm: true` is required. An unreachable node is a 503 unless `queue: true`; a queued action expires 5 minutes after its scheduled time.",
      params: { node_id: { schema: UuidParam, description: "Node ID" } },
      body: PowerActionRequest,
      success: { status: 201, description: "The power action", data: PowerActionResponseSchema },
      errors: [403, 404, 422, 503],
    },
    async (c, { params, body }) => ({
      data: await createPowerAction(
        c.env,
        c.executionCtx,
        c.get("db"),
        params.node_id,
        body,
        principalOf(c).clusterScope,
      ),
    }),
  );

  defineRoute(
    app,
    {
      method: "post",
      path: "/api/v1/power_actions",
      permission: "power:manage",
      tag: TAG,
      summary: "Reboot or shut down every node a targeting matches",
      description:
        "The fleet form: one typed command over the targeted nodes (the same targeting as commands), one power action per node, all due at the same time. Unless `queue: true`, any unreachable target is a 503 naming them (`details.node_ids`) and nothing is scheduled. Targeting warnings (hostnames) are in `meta.warnings`. With `max_concurrency`, at most that many nodes have an action in progress at once; the others are `waiting`, oldest node first, each scheduled `delay_seconds` after its turn comes.",
      body: FleetPowerActionRequest,
      success: {
        status: 201,
        description: "One power action per targeted node",
        data: v.array(PowerActionResponseSchema),
        meta: v.object({ warnings: v.optional(v.array(v.string())) }),
      },
      errors: [403, 422, 503],
    },
    async (c, { body }) => {
      const { actions, warnings } = await createFleetPowerActions(
        c.env,
        c.executionCtx,
        c.get("db"),
        body,
        principalOf(c).clusterScope,
      );
      return { data: actions, meta: warnings.length > 0 ? { warnings } : {} };
    },
  );

  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/power_actions",
      permission: "power:read",
      tag: TAG,
      summary: "List power actions",
      list: powerActionListSpec,
      success: {
        status: 200,
        description: "Paginated power actions",
        data: PowerActionResponseSchema,
        paginated: true,
      },
    },
    listRoute({ page: listPowerActions, present: (rows) => rows.map(presentPowerAction) }),
  );

  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/power_actions/{id}",
      permission: "power:read",
      tag: TAG,
      summary: "Get a power action",
      params: idParam,
      success: { status: 200, description: "The power action", data: PowerActionResponseSchema },
      errors: [404],
    },
    async (c, { params }) => ({ data: presentPowerAction(await getPowerAction(c.get("db"), params.id)) }),
  );

  defineRoute(
    app,
    {
      method: "patch",
      path: "/api/v1/power_actions/{id}/cancel",
      permission: "power:manage",
      tag: TAG,
      summary: "Cancel a power action before it is due",
      description:
        "Until its scheduled time: an execution not yet run is cancelled; once the machine has it scheduled, a command stops its timer (or cancels the pending `shutdown`). 409 once due, failed, expired or cancelled.",
      params: idParam,
      success: { status: 200, description: "The cancelled power action", data: PowerActionResponseSchema },
      errors: [404, 409],
    },
    async (c, { params }) => ({
      data: await cancelPowerAction(
        c.env,
        c.executionCtx,
        c.get("db"),
        params.id,
        principalOf(c).clusterScope,
      ),
    }),
  );
}
