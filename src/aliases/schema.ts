import * as v from "valibot";
import { DateTimeOutput, UuidOutput } from "../schemas/common";

/** The contract's `CreateAliasRequest`: a DNS label, unique within the node's cluster. */
export const CreateAliasRequest = v.pipe(
  v.strictObject({
    name: v.pipe(
      v.string("must be a string"),
      v.minLength(1, "can't be blank"),
      v.maxLength(63, "must be at most 63 characters"),
      v.regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, "must be lowercase alphanumeric with inner hyphens"),
    ),
  }),
  v.title("CreateAliasRequest"),
);

/** The contract's `AliasResponse`. */
export const AliasResponseSchema = v.pipe(
  v.object({
    cluster_name: v.string(),
    id: UuidOutput,
    inserted_at: DateTimeOutput,
    name: v.string(),
    node_id: UuidOutput,
    updated_at: DateTimeOutput,
    vpn_hostname: v.string(),
  }),
  v.title("AliasResponse"),
);
export type AliasResponse = v.InferOutput<typeof AliasResponseSchema>;
