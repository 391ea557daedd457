import type { Hono } from "hono";
import * as v from "valibot";
import { presentNode } from "../../src/nodes/present";
import { NodeResponseSchema } from "../../src/nodes/schema";
import { getNode } from "../../src/nodes/store";
import type { AppEnv } from "../middleware/request-context";
import { defineRoute } from "../openapi/define-route";
import { respond } from "../respond";
import { enrollNode } from "../services/enrollment";

const EnrollRequest = v.pipe(
  v.strictObject({
    key: v.pipe(v.string("must be a string"), v.minLength(1, "can't be blank"), v.maxLength(512)),
    node_id: v.pipe(
      v.string(),
      v.uuid("must be a UUID"),
      v.transform((s) => s.toLowerCase()),
    ),
    id_type: v.picklist(["persistent", "random"], "must be persistent or random"),
    hostname: v.pipe(v.string(), v.minLength(1, "can't be blank"), v.maxLength(255)),
    platform: v.pipe(v.string(), v.maxLength(64)),
    arch: v.optional(v.pipe(v.string(), v.maxLength(32))),
    version: v.pipe(v.string(), v.minLength(1, "can't be blank"), v.maxLength(64)),
  }),
  v.title("EnrollRequest"),
);

/** Registers `POST /agent/v1/enroll`: public, but guarded by the enrollment key in the body. */
export function registerEnrollRoute(app: Hono<AppEnv>): void {
  defineRoute(
    app,
    {
      method: "post",
      path: "/agent/v1/enroll",
      tag: "Agent",
      public: true,
      summary: "Enrol a node with an enrollment key",
      description:
        "Called once by the agent. Spends one use of the key atomically and creates the node in the key's cluster (or re-registers a known persistent id). 401 unknown key, 403 expired or spent key, 409 full cluster or clashing random id. Returns the node including its `api_token`.",
      body: EnrollRequest,
      success: { status: 201, description: "Node enrolled", data: NodeResponseSchema },
      errors: [401, 403, 409, 422, 503],
    },
    async (c, { body }) => {
      const db = c.get("db");
      const { nodeId } = await enrollNode(db, c.get("config"), body);
      return respond(c, await presentNode(await getNode(db, nodeId), c.get("config")), 201);
    },
  );
}
