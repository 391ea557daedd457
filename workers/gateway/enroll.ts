import type { Hono } from "hono";
import { presentNode } from "../../src/nodes/present";
import { NodeResponseSchema } from "../../src/nodes/schema";
import { getNode } from "../../src/nodes/store";
import {
  ENROLL_PATH,
  EnrollAcceptedSchema,
  type EnrolledNode,
  EnrollRequestSchema,
} from "../../src/protocol/enroll";
import { ApiError } from "../errors";
import { clientIp, enforceRateLimit } from "../middleware/rate-limit";
import type { AppContext, AppEnv } from "../middleware/request-context";
import { defineRoute } from "../openapi/define-route";
import { enrollNode, precheckEnrolment } from "../services/enrollment";
import { pollRegistration, requestRegistration } from "../services/node-registration";

/** The node as the agent receives it, with its token (a 201 answer). */
async function enrolledNode(c: AppContext, nodeId: string) {
  const node = await presentNode(await getNode(c.get("db"), nodeId), c.get("config"));
  // The compiler holds the answer to the agent's contract (src/protocol/enroll.ts).
  return { data: node satisfies EnrolledNode };
}

/** Registers `POST /agent/v1/enroll` (contract: src/protocol/enroll.ts): public, but guarded by the enrollment key in the body. */
export function registerEnrollRoute(app: Hono<AppEnv>): void {
  defineRoute(
    app,
    {
      method: "post",
      path: ENROLL_PATH,
      tag: "Agent",
      public: true,
      summary: "Enrol a node with an enrollment key",
      description:
        "Called once by the agent. Spends one use of the key atomically and creates the node in the key's cluster. An existing persistent id is re-registered only with proof: the body carries the node's current `api_token` (or an administrator revoked it), and the key belongs to the node's own cluster; enrolment never moves a node. 401 unknown key, 403 expired or spent key or a blocked node id, 409 full cluster, clashing random id or an existing node without proof. Unknown, expired and spent keys are refused after a read, without a write. Returns the node including its `api_token`.\n\n" +
        "A key with `requires_approval` creates a pending registration instead (202 with `registration_id`, `registration_secret` and `retry_after_seconds`; the key use is spent) unless the request proves an existing node with its current token. The agent repeats the request with `registration_id` and `registration_secret` every `retry_after_seconds`: 202 while pending, 201 with the node once approved (the token is handed over once), 403 once rejected or expired, 401 for an unknown registration or a wrong secret.",
      body: EnrollRequestSchema,
      success: { status: 201, description: "Node enrolled", data: NodeResponseSchema },
      alternative: {
        status: 202,
        description: "Registration pending an administrator's approval",
        data: EnrollAcceptedSchema,
      },
      errors: [401, 403, 409, 422, 429, 503],
    },
    async (c, { body }) => {
      const db = c.get("db");
      await enforceRateLimit(
        c.env.ENROLL_RATE_LIMITER,
        `enroll:${clientIp(c)}`,
        c.get("config").rateLimits.enroll,
      );
      const { registration_id, registration_secret } = body;
      if (registration_id !== undefined || registration_secret !== undefined) {
        if (registration_id === undefined || registration_secret === undefined) {
          const missing = registration_id === undefined ? "registration_id" : "registration_secret";
          throw new ApiError("validation_failed", "Validation failed", {
            [missing]: ["is required with a registration poll"],
          });
        }
        const polled = await pollRegistration(
          db,
          { registration_id, registration_secret, node_id: body.node_id },
          c.get("config").registrationPollSeconds,
        );
        if ("pending" in polled) return { data: polled.pending, status: 202 as const };
        return enrolledNode(c, polled.nodeId);
      }
      const { needsApproval } = await precheckEnrolment(db, body);
      if (needsApproval) {
        const ip = c.req.header("cf-connecting-ip") ?? null;
        const pollSeconds = c.get("config").registrationPollSeconds;
        return { data: await requestRegistration(db, body, ip, pollSeconds), status: 202 as const };
      }
      const { nodeId } = await enrollNode(db, c.get("config"), body);
      return enrolledNode(c, nodeId);
    },
  );
}
