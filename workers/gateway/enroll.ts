import type { Hono } from "hono";
import { presentNode } from "../../src/nodes/present";
import { NodeResponseSchema } from "../../src/nodes/schema";
import { getNode } from "../../src/nodes/store";
import { ENROLL_PATH, type EnrolledNode, EnrollRequestSchema } from "../../src/protocol/enroll";
import { clientIp, enforceRateLimit } from "../middleware/rate-limit";
import type { AppEnv } from "../middleware/request-context";
import { defineRoute } from "../openapi/define-route";
import { enrollNode, precheckEnrolment } from "../services/enrollment";

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
        "Called once by the agent. Spends one use of the key atomically and creates the node in the key's cluster. An existing persistent id is re-registered only with proof: the body carries the node's current `api_token` (or an administrator revoked it), and the key belongs to the node's own cluster; enrolment never moves a node. 401 unknown key, 403 expired or spent key or a blocked node id, 409 full cluster, clashing random id or an existing node without proof. Unknown, expired and spent keys are refused after a read, without a write. Returns the node including its `api_token`.",
      body: EnrollRequestSchema,
      success: { status: 201, description: "Node enrolled", data: NodeResponseSchema },
      errors: [401, 403, 409, 422, 429, 503],
    },
    async (c, { body }) => {
      const db = c.get("db");
      await enforceRateLimit(
        c.env.ENROLL_RATE_LIMITER,
        `enroll:${clientIp(c)}`,
        c.get("config").rateLimits.enroll,
      );
      await precheckEnrolment(db, body);
      const { nodeId } = await enrollNode(db, c.get("config"), body);
      const node = await presentNode(await getNode(db, nodeId), c.get("config"));
      // The compiler holds the answer to the agent's contract (src/protocol/enroll.ts).
      return { data: node satisfies EnrolledNode };
    },
  );
}
