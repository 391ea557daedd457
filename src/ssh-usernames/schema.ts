import * as v from "valibot";
import { DateTimeOutput, objectMessage, UuidOutput } from "../schemas/common";
import { SSH_USERNAME_MAX, SSH_USERNAME_MIN, SSH_USERNAME_PATTERN } from "../ssh/username";
import { NewPublicKey, SshPublicKeySchema } from "../ssh-public-keys/schema";

const UsernameInput = v.pipe(
  v.string("must be a string"),
  v.minLength(SSH_USERNAME_MIN, `must be at least ${SSH_USERNAME_MIN} characters`),
  v.maxLength(SSH_USERNAME_MAX, `must be at most ${SSH_USERNAME_MAX} characters`),
  v.regex(
    SSH_USERNAME_PATTERN,
    "must start with a letter or underscore and contain only lowercase letters, digits, hyphens and underscores",
  ),
  v.description(
    "SSH username for node access (3-32 characters, must start with letter or underscore, lowercase letters/digits/hyphens/underscores only)",
  ),
);

/** The contract's `SshUsernameCreateRequest`. */
export const SshUsernameCreateRequest = v.pipe(
  v.strictObject(
    {
      username: UsernameInput,
      password: v.optional(
        v.nullable(
          v.pipe(
            v.string("must be a string"),
            v.minLength(12, "must be at least 12 characters"),
            v.maxLength(128, "must be at most 128 characters"),
            v.description(
              "Optional password for username/password SSH authentication (12-128 characters if provided, will be hashed with Argon2)",
            ),
          ),
        ),
      ),
      public_keys: v.optional(
        v.nullable(
          v.pipe(
            v.array(NewPublicKey, "must be an array of {key_name, public_key}"),
            v.maxLength(100, "must contain at most 100 keys"),
            v.description("Optional array of SSH public keys to create with this username"),
          ),
        ),
      ),
    },
    objectMessage,
  ),
  v.title("SshUsernameCreateRequest"),
  v.description("Create a new SSH username for a node, optionally with password and/or public keys"),
);
export type SshUsernameCreateInput = v.InferOutput<typeof SshUsernameCreateRequest>;

/** The contract's `SshUsername`. */
export const SshUsernameSchema = v.pipe(
  v.object({
    has_password: v.pipe(
      v.boolean(),
      v.description("Whether this username has a password configured for authentication"),
    ),
    id: UuidOutput,
    inserted_at: DateTimeOutput,
    node_id: UuidOutput,
    public_keys: v.pipe(
      v.array(SshPublicKeySchema),
      v.description("SSH public keys associated with this username"),
    ),
    updated_at: DateTimeOutput,
    username: v.string(),
  }),
  v.title("SshUsername"),
);
export type SshUsernameResponse = v.InferOutput<typeof SshUsernameSchema>;
