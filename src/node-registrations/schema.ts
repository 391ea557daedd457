import * as v from "valibot";
import { DateTimeOutput, UuidOutput } from "../schemas/common";

/** Registration states: pending until an administrator decides, or until it expires. */
export const REGISTRATION_STATUSES = ["pending", "approved", "rejected", "expired"] as const;

/** How long a registration may stay pending before the cron expires it. */
export const REGISTRATION_TTL_MS = 7 * 24 * 3600 * 1000;

/** An enrolment waiting for (or decided by) an administrator: seed 002's pending agents. */
export const NodeRegistrationResponseSchema = v.pipe(
  v.object({
    id: UuidOutput,
    status: v.pipe(
      v.picklist(REGISTRATION_STATUSES),
      v.description("pending until approved or rejected; expired after 7 days pending"),
    ),
    node_id: v.pipe(UuidOutput, v.description("Node ID the agent proposed; the node's id once approved")),
    id_type: v.picklist(["persistent", "random"]),
    cluster_name: v.pipe(
      v.string(),
      v.description("Cluster the node joins: the key's, or the one named at approval"),
    ),
    enrollment_key_id: v.pipe(
      v.nullable(v.string()),
      v.description("Enrollment key the agent used (null once the key was deleted)"),
    ),
    hostname: v.string(),
    platform: v.nullable(v.string()),
    arch: v.nullable(v.string()),
    agent_version: v.nullable(v.string()),
    ip: v.pipe(v.nullable(v.string()), v.description("Client IP address the registration came from")),
    decided_by: v.pipe(v.nullable(v.string()), v.description("Principal that approved or rejected it")),
    decided_at: v.nullable(DateTimeOutput),
    expires_at: v.pipe(
      v.nullable(DateTimeOutput),
      v.description("When a pending registration expires (null once decided)"),
    ),
    inserted_at: DateTimeOutput,
    updated_at: DateTimeOutput,
  }),
  v.title("NodeRegistrationResponse"),
);
export type NodeRegistrationResponse = v.InferOutput<typeof NodeRegistrationResponseSchema>;

/** `PATCH …/approve`: the cluster may be changed before the node is created. */
export const NodeRegistrationApproveRequest = v.pipe(
  v.strictObject({
    cluster_name: v.optional(
      v.pipe(
        v.string("must be a string"),
        v.minLength(1, "can't be blank"),
        v.maxLength(255, "must be at most 255 characters"),
        v.description("Cluster to create the node in (default: the enrollment key's)"),
      ),
    ),
  }),
  v.title("NodeRegistrationApproveRequest"),
);
export type NodeRegistrationApproveInput = v.InferOutput<typeof NodeRegistrationApproveRequest>;
