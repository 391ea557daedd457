import type { Hono } from "hono";
import {
  nodeRegistrationListSpec,
  registrationClusterName,
  registrationScopeColumn,
} from "../../src/node-registrations/list";
import { presentRegistration } from "../../src/node-registrations/present";
import {
  NodeRegistrationApproveRequest,
  NodeRegistrationResponseSchema,
} from "../../src/node-registrations/schema";
import { getRegistration, listRegistrations, rejectRegistration } from "../../src/node-registrations/store";
import { UuidParam } from "../../src/schemas/common";
import { ApiError } from "../errors";
import { principalOf } from "../middleware/authorize";
import type { AppEnv } from "../middleware/request-context";
import { defineRoute } from "../openapi/define-route";
import { listRoute } from "../openapi/list-route";
import { approveRegistration } from "../services/node-registration";

const TAG = "Nodes.NodeRegistration";
const idParam = { id: { schema: UuidParam, description: "Node registration ID" } } as const;
const scope = { param: { name: "id", clusterName: registrationClusterName } };
const single = {
  status: 200,
  description: "The node registration",
  data: NodeRegistrationResponseSchema,
} as const;

/** Registers `/api/v1/node_registrations`: enrolments with a `requires_approval` key, awaiting a decision (C18). */
export function registerNodeRegistrationRoutes(app: Hono<AppEnv>): void {
  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/node_registrations",
      permission: "node_registrations:read",
      clusterScope: { list: registrationScopeColumn },
      tag: TAG,
      summary: "List node registrations",
      description:
        "Enrolments with an enrollment key that has `requires_approval`. A pending registration's agent polls until it is approved (its node is created) or rejected (the agent exits); pending ones expire after 7 days.",
      list: nodeRegistrationListSpec,
      success: {
        status: 200,
        description: "Paginated list of node registrations",
        data: NodeRegistrationResponseSchema,
        paginated: true,
      },
    },
    listRoute({ page: listRegistrations, present: async (rows) => rows.map(presentRegistration) }),
  );

  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/node_registrations/{id}",
      permission: "node_registrations:read",
      clusterScope: scope,
      tag: TAG,
      summary: "Get a node registration",
      params: idParam,
      success: single,
      errors: [404, 503],
    },
    async (c, { params }) => ({ data: presentRegistration(await getRegistration(c.get("db"), params.id)) }),
  );

  defineRoute(
    app,
    {
      method: "patch",
      path: "/api/v1/node_registrations/{id}/approve",
      permission: "node_registrations:write",
      clusterScope: scope,
      tag: TAG,
      summary: "Approve a pending node registration",
      description:
        "Creates the node (in `cluster_name` when given, else the enrollment key's cluster) under the same rules as an enrolment: node limit, free address, blocked ids (403), no takeover of an existing node (409). The agent receives its node and token at its next poll. 409 when the registration is not pending.",
      params: idParam,
      body: NodeRegistrationApproveRequest,
      success: single,
      errors: [403, 404, 409, 422, 503],
    },
    async (c, { params, body }) => {
      const principal = principalOf(c);
      // A cluster-scoped principal cannot place a node outside its clusters.
      if (
        body.cluster_name !== undefined &&
        principal.clusterScope &&
        !principal.clusterScope.includes(body.cluster_name)
      )
        throw new ApiError("validation_failed", "Validation failed", { cluster_name: ["cluster not found"] });
      const row = await approveRegistration(
        c.get("db"),
        c.get("config"),
        params.id,
        principal.name,
        body.cluster_name,
      );
      return { data: presentRegistration(row) };
    },
  );

  defineRoute(
    app,
    {
      method: "patch",
      path: "/api/v1/node_registrations/{id}/reject",
      permission: "node_registrations:write",
      clusterScope: scope,
      tag: TAG,
      summary: "Reject a pending node registration",
      description:
        "The agent learns it at its next poll (403) and exits with code 6. 409 when the registration is not pending.",
      params: idParam,
      success: single,
      errors: [404, 409, 503],
    },
    async (c, { params }) => ({
      data: presentRegistration(await rejectRegistration(c.get("db"), params.id, principalOf(c).name)),
    }),
  );
}
