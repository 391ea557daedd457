import * as v from "valibot";
import { PermissionList } from "../access/schema";
import { DateTimeOutput, UuidOutput } from "../schemas/common";

const RoleName = v.pipe(
  v.string("must be a string"),
  v.minLength(1, "can't be blank"),
  v.maxLength(64, "must be at most 64 characters"),
  v.regex(/^[a-z0-9][a-z0-9_-]*$/, "must be lowercase letters, digits, - and _"),
);
const Description = v.nullable(
  v.pipe(v.string("must be a string"), v.maxLength(500, "must be at most 500 characters")),
);

export const RoleCreateRequest = v.pipe(
  v.strictObject({
    name: RoleName,
    description: v.optional(Description),
    permissions: v.pipe(PermissionList, v.minLength(1, "must name at least one permission")),
  }),
  v.title("RoleCreateRequest"),
);
export type RoleCreateInput = v.InferOutput<typeof RoleCreateRequest>;

export const RoleUpdateRequest = v.pipe(
  v.strictObject({
    name: v.optional(RoleName),
    description: v.optional(Description),
    permissions: v.optional(v.pipe(PermissionList, v.minLength(1, "must name at least one permission"))),
  }),
  v.title("RoleUpdateRequest"),
);
export type RoleUpdateInput = v.InferOutput<typeof RoleUpdateRequest>;

export const RoleResponseSchema = v.pipe(
  v.object({
    id: UuidOutput,
    name: v.string(),
    description: v.nullable(v.string()),
    permissions: v.array(v.string()),
    is_system: v.boolean(),
    user_count: v.pipe(v.number(), v.integer()),
    inserted_at: DateTimeOutput,
    updated_at: DateTimeOutput,
  }),
  v.title("RoleResponse"),
);
export type RoleResponse = v.InferOutput<typeof RoleResponseSchema>;
