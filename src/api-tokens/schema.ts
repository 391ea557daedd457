import * as v from "valibot";
import { PermissionList } from "../access/schema";
import { ClusterName } from "../clusters/schema";
import { DateTimeOutput, FutureDateTimeInput, UuidOutput } from "../schemas/common";

export const ApiTokenCreateRequest = v.pipe(
  v.strictObject({
    name: v.pipe(
      v.string("must be a string"),
      v.minLength(1, "can't be blank"),
      v.maxLength(100, "must be at most 100 characters"),
    ),
    scopes: v.pipe(PermissionList, v.minLength(1, "must name at least one permission")),
    cluster_names: v.optional(
      v.nullable(
        v.pipe(
          v.array(ClusterName, "must be an array of cluster names"),
          v.minLength(1, "must name at least one cluster (null for all)"),
          v.maxLength(50, "must have at most 50 entries"),
          v.transform((names) => [...new Set(names)]),
        ),
      ),
    ),
    expires_at: v.optional(v.nullable(FutureDateTimeInput)),
  }),
  v.title("ApiTokenCreateRequest"),
);
export type ApiTokenCreateInput = v.InferOutput<typeof ApiTokenCreateRequest>;

const ApiTokenFields = {
  id: UuidOutput,
  name: v.string(),
  prefix: v.pipe(v.string(), v.description("The secret's first characters, to recognise it")),
  scopes: v.array(v.string()),
  cluster_names: v.nullable(v.array(v.string())),
  expires_at: v.nullable(DateTimeOutput),
  last_used_at: v.nullable(DateTimeOutput),
  last_used_ip: v.nullable(v.string()),
  created_by: v.object({ type: v.string(), id: v.nullable(v.string()), name: v.string() }),
  revoked: v.boolean(),
  revoked_at: v.nullable(DateTimeOutput),
  inserted_at: DateTimeOutput,
  updated_at: DateTimeOutput,
};

/** A token as lists show it: never the secret. */
export const ApiTokenResponseSchema = v.pipe(v.object(ApiTokenFields), v.title("ApiTokenResponse"));
export type ApiTokenResponse = v.InferOutput<typeof ApiTokenResponseSchema>;

/** A token with its secret, answered once on create and on rotate. */
export const ApiTokenSecretResponseSchema = v.pipe(
  v.object({
    ...ApiTokenFields,
    token: v.pipe(v.string(), v.description("The secret (`otp_…`), shown only now")),
  }),
  v.title("ApiTokenSecretResponse"),
);
