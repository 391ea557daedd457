import * as v from "valibot";
import { DateTimeOutput, UuidOutput } from "../schemas/common";

/** Login names: 3–64 characters, letters, digits and `._@-`. Unique as given. */
export const Username = v.pipe(
  v.string("must be a string"),
  v.minLength(3, "must be at least 3 characters"),
  v.maxLength(64, "must be at most 64 characters"),
  v.regex(/^[A-Za-z0-9._@-]+$/, "may contain letters, digits, '.', '_', '@' and '-'"),
);

/** At least 12 characters; the upper bound keeps hashing cost bounded. */
export const Password = v.pipe(
  v.string("must be a string"),
  v.minLength(12, "must be at least 12 characters"),
  v.maxLength(256, "must be at most 256 characters"),
);

const Email = v.nullable(
  v.pipe(
    v.string("must be a string"),
    v.maxLength(254, "must be at most 254 characters"),
    v.email("must be an email address"),
  ),
);

const RoleNames = v.pipe(
  v.array(
    v.pipe(v.string("must be a string"), v.maxLength(64, "must be at most 64 characters")),
    "must be an array of role names",
  ),
  v.maxLength(20, "must have at most 20 roles"),
  v.transform((names) => [...new Set(names)]),
);

export const UserCreateRequest = v.pipe(
  v.strictObject({
    username: Username,
    password: Password,
    email: v.optional(Email),
    roles: RoleNames,
  }),
  v.title("UserCreateRequest"),
);
export type UserCreateInput = v.InferOutput<typeof UserCreateRequest>;

export const UserUpdateRequest = v.pipe(
  v.strictObject({ email: v.optional(Email), roles: v.optional(RoleNames) }),
  v.title("UserUpdateRequest"),
);
export type UserUpdateInput = v.InferOutput<typeof UserUpdateRequest>;

export const MeUpdateRequest = v.pipe(v.strictObject({ email: Email }), v.title("MeUpdateRequest"));

export const SetPasswordRequest = v.pipe(
  v.strictObject({ new_password: Password }),
  v.title("SetPasswordRequest"),
);

export const ChangePasswordRequest = v.pipe(
  v.strictObject({
    current_password: v.pipe(v.string("must be a string"), v.maxLength(256)),
    new_password: Password,
  }),
  v.title("ChangePasswordRequest"),
);

export const UserResponseSchema = v.pipe(
  v.object({
    id: UuidOutput,
    username: v.string(),
    email: v.nullable(v.string()),
    roles: v.array(v.string()),
    permissions: v.array(v.string()),
    auth_provider: v.string(),
    disabled: v.boolean(),
    locked_until: v.nullable(DateTimeOutput),
    last_login_at: v.nullable(DateTimeOutput),
    inserted_at: DateTimeOutput,
    updated_at: DateTimeOutput,
  }),
  v.title("UserResponse"),
);
export type UserResponse = v.InferOutput<typeof UserResponseSchema>;

export const LoginRequest = v.pipe(
  v.strictObject({
    // Looser than Username: a login with any string is just a failed login, not a 422 that tells what exists.
    username: v.pipe(v.string("must be a string"), v.minLength(1, "can't be blank"), v.maxLength(256)),
    password: v.pipe(v.string("must be a string"), v.maxLength(256, "must be at most 256 characters")),
    remember_me: v.optional(v.boolean("must be a boolean")),
  }),
  v.title("LoginRequest"),
);

export const LoginResponseSchema = v.pipe(
  v.object({
    token: v.pipe(v.string(), v.description("Opaque session token (`ots_…`): send as Authorization: Bearer")),
    expires_at: DateTimeOutput,
    user: UserResponseSchema,
  }),
  v.title("LoginResponse"),
);
