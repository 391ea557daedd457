import * as v from "valibot";
import { AgentFact } from "./frames";

/**
 * The enrolment contract: `POST /agent/v1/enroll`, the one HTTP call the agent makes before it
 * has a token. Beside the WebSocket frame catalog (./frames.ts) and, like it, imported by both
 * ends: the gateway validates the request with it (workers/gateway/enroll.ts), the agent builds
 * its body from the request type and validates the answer (agent/enroll.ts).
 */
export const ENROLL_PATH = "/agent/v1/enroll";

/** The body the agent POSTs: the key's secret, its node id, and what it runs on. */
const enrollRequestSchema = () =>
  v.pipe(
    v.strictObject({
      key: v.pipe(v.string("must be a string"), v.minLength(1, "can't be blank"), v.maxLength(512)),
      node_id: v.pipe(
        v.string(),
        v.uuid("must be a UUID"),
        v.transform((s) => s.toLowerCase()),
      ),
      id_type: v.picklist(["persistent", "random"], "must be persistent or random"),
      hostname: v.pipe(AgentFact(255), v.minLength(1, "can't be blank")),
      platform: AgentFact(64),
      arch: v.optional(AgentFact(32)),
      version: v.pipe(AgentFact(64), v.minLength(1, "can't be blank")),
      // The node's current token, when the agent's state dir has one: the proof that lets an
      // existing node id enrol again (without it that is refused with 409).
      api_token: v.optional(v.pipe(v.string("must be a string"), v.minLength(1), v.maxLength(512))),
      // A poll of a registration that waits for approval (the 202 answer gave both); the key is
      // then not checked again (a single-use key was spent by the registration).
      registration_id: v.optional(
        v.pipe(
          v.string(),
          v.uuid("must be a UUID"),
          v.transform((s) => s.toLowerCase()),
        ),
      ),
      registration_secret: v.optional(
        v.pipe(v.string("must be a string"), v.minLength(1, "can't be blank"), v.maxLength(512)),
      ),
    }),
    v.title("EnrollRequest"),
  );
export const EnrollRequestSchema = /* @__PURE__ */ enrollRequestSchema();

/** The request as the agent writes it (node_id in any case; the server lowercases it). */
export type EnrollRequest = v.InferInput<typeof EnrollRequestSchema>;

/**
 * The part of the enrolled node the agent relies on. The gateway answers with the whole node
 * (`NodeResponse`, every field of `GET /api/v1/nodes/{id}`); these are the fields an agent
 * needs, and the object is not strict so the node record can grow without breaking agents.
 */
const enrolledNodeSchema = () =>
  v.object({
    id: v.pipe(v.string(), v.uuid()),
    cluster_name: v.string(),
    api_token: v.pipe(v.string(), v.minLength(1)),
    node_name: v.optional(v.nullable(v.string())),
    vpn_hostname: v.optional(v.nullable(v.string())),
  });
export const EnrolledNodeSchema = /* @__PURE__ */ enrolledNodeSchema();

/** What the agent needs of an enrolled node; the gateway's answer must satisfy it. */
export type EnrolledNode = v.InferInput<typeof EnrolledNodeSchema>;

/** The 201 answer: `{data: node, meta}` (meta is the REST envelope's and not read by the agent). */
export const enrollResponseSchema = () => v.object({ data: enrolledNodeSchema() });
export const EnrollResponseSchema = /* @__PURE__ */ enrollResponseSchema();

/** A 201 answer as the agent reads it. */
export type EnrollResponse = v.InferOutput<typeof EnrollResponseSchema>;

/**
 * The 202 answer when the key requires approval: the agent keeps the id and secret and repeats the
 * enrolment with them after `retry_after_seconds`, until the answer is its node (201) or a 403.
 * `registration_secret` comes once, with the answer that created the registration.
 */
const enrollAcceptedSchema = () =>
  v.pipe(
    v.object({
      registration_id: v.pipe(v.string(), v.uuid()),
      registration_secret: v.optional(
        v.pipe(
          v.string(),
          v.minLength(1),
          v.description("Proof of the registration for the polls; shown once, only its hash is kept"),
        ),
      ),
      status: v.literal("pending"),
      retry_after_seconds: v.pipe(v.number(), v.integer(), v.minValue(1)),
    }),
    v.title("EnrollAccepted"),
  );
export const EnrollAcceptedSchema = /* @__PURE__ */ enrollAcceptedSchema();

/** A 202 answer as the agent reads it. */
export const enrollAcceptedResponseSchema = () => v.object({ data: enrollAcceptedSchema() });
export type EnrollAccepted = v.InferOutput<typeof EnrollAcceptedSchema>;
