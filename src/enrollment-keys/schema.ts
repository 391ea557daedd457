import * as v from "valibot";
import { DateTimeOutput, FutureDateTimeInput, UuidOutput } from "../schemas/common";

const KeyName = v.nullable(
  v.pipe(v.string("must be a string"), v.maxLength(255, "must be at most 255 characters")),
);
const UsesRemaining = v.nullable(
  v.pipe(
    v.number("must be an integer"),
    v.integer("must be an integer"),
    v.minValue(1, "must be greater than or equal to 1"),
  ),
);
const ExpiredAt = v.nullable(FutureDateTimeInput);
const RequiresApproval = v.pipe(
  v.boolean("must be a boolean"),
  v.description(
    "Enrolment with this key creates a pending node registration that an administrator approves or rejects (`/api/v1/node_registrations`) instead of a node",
  ),
);

/** The contract's `EnrollmentKeyCreateRequest`; omitted uses and expiry mean a single-use key with no expiry. */
export const EnrollmentKeyCreateRequest = v.pipe(
  v.strictObject({
    name: v.optional(KeyName),
    uses_remaining: v.optional(UsesRemaining),
    expired_at: v.optional(ExpiredAt),
    requires_approval: v.optional(RequiresApproval),
  }),
  v.title("EnrollmentKeyCreateRequest"),
);
/** The contract's `EnrollmentKeyUpdateRequest`: present fields change, null unsets. */
export const EnrollmentKeyUpdateRequest = v.pipe(
  v.strictObject({
    name: v.optional(KeyName),
    uses_remaining: v.optional(UsesRemaining),
    expired_at: v.optional(ExpiredAt),
    requires_approval: v.optional(RequiresApproval),
  }),
  v.title("EnrollmentKeyUpdateRequest"),
);

/** The contract's `EnrollmentKeyResponse`. */
export const EnrollmentKeyResponseSchema = v.pipe(
  v.object({
    cluster_name: v.string(),
    expired_at: v.nullable(DateTimeOutput),
    id: UuidOutput,
    inserted_at: DateTimeOutput,
    key: v.pipe(
      v.string(),
      v.description("Enrollment key blob (base64 JSON). Set as ENROLLMENT_KEY on the agent."),
    ),
    last_used_at: v.nullable(DateTimeOutput),
    name: v.nullable(v.string()),
    requires_approval: RequiresApproval,
    updated_at: DateTimeOutput,
    uses_remaining: v.nullable(v.number()),
  }),
  v.title("EnrollmentKeyResponse"),
);
export type EnrollmentKeyCreateInput = v.InferOutput<typeof EnrollmentKeyCreateRequest>;
export type EnrollmentKeyUpdateInput = v.InferOutput<typeof EnrollmentKeyUpdateRequest>;
export type EnrollmentKeyResponse = v.InferOutput<typeof EnrollmentKeyResponseSchema>;

/** `POST /api/v1/enrollment_keys/{id}/install_command`: the line an operator pastes on a host. */
export const InstallCommandResponseSchema = v.pipe(
  v.object({
    command: v.pipe(
      v.string(),
      v.description(
        "`curl -fsSL '<origin>/install.sh' | sudo ENROLLMENT_KEY='<key>' sh`: the key travels in the environment of the installer, never in a URL (so no proxy or server log records it)",
      ),
    ),
  }),
  v.title("InstallCommandResponse"),
);
export type InstallCommandResponse = v.InferOutput<typeof InstallCommandResponseSchema>;
