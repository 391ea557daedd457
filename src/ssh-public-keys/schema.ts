import * as v from "valibot";
import { DateTimeOutput, objectMessage, UuidOutput } from "../schemas/common";
import { PUBLIC_KEY_PATTERN, parsePublicKey, SSH_KEY_ALGORITHMS } from "../ssh/public-key";

/** `public_key` of a request: the contract's pattern, then the key blob parsed (src/ssh/public-key.ts). */
export const PublicKeyInput = v.pipe(
  v.string("must be a string"),
  v.minLength(1, "can't be blank"),
  v.regex(
    PUBLIC_KEY_PATTERN,
    `must be an OpenSSH public key ("algorithm base64 [comment]") of a supported algorithm (${SSH_KEY_ALGORITHMS.join(", ")})`,
  ),
  v.rawCheck(({ dataset, addIssue }) => {
    // The pattern already reported keys it refuses; only those it lets through are parsed.
    if (!dataset.typed || !PUBLIC_KEY_PATTERN.test(dataset.value)) return;
    const parsed = parsePublicKey(dataset.value);
    if (!parsed.ok) addIssue({ message: parsed.error });
  }),
  v.description(
    `SSH public key in OpenSSH format (algorithm base64data [comment]). Supported algorithms: ${SSH_KEY_ALGORITHMS.join(", ")}. The key data is decoded and checked (embedded algorithm, key size; RSA at least 2048 bits).`,
  ),
);

/** `key_name` of a request. */
export const KeyNameInput = v.pipe(
  v.string("must be a string"),
  v.minLength(1, "can't be blank"),
  v.maxLength(255, "must be at most 255 characters"),
  v.description("Human-readable name for the SSH key"),
);

/** One key of a request, alone (`SshPublicKeyCreateRequest`) or inside a new username's `public_keys`. */
export const NewPublicKey = v.strictObject(
  { key_name: KeyNameInput, public_key: PublicKeyInput },
  objectMessage,
);
export type NewPublicKeyInput = v.InferOutput<typeof NewPublicKey>;

/** The contract's `SshPublicKeyCreateRequest`. */
export const SshPublicKeyCreateRequest = v.pipe(
  NewPublicKey,
  v.title("SshPublicKeyCreateRequest"),
  v.description("Create a new SSH public key for a username. The key must be in valid OpenSSH format."),
);

/** The contract's `SshPublicKey`. */
export const SshPublicKeySchema = v.pipe(
  v.object({
    id: UuidOutput,
    inserted_at: DateTimeOutput,
    key_name: v.string(),
    public_key: v.pipe(
      v.string(),
      v.description("SSH public key in OpenSSH format (algorithm base64data [comment])"),
    ),
    ssh_username_id: UuidOutput,
    updated_at: DateTimeOutput,
  }),
  v.title("SshPublicKey"),
);
export type SshPublicKeyResponse = v.InferOutput<typeof SshPublicKeySchema>;
