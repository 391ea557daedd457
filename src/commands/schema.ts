import * as v from "valibot";
import { DateTimeOutput, FutureDateTimeInput, objectMessage, UuidOutput } from "../schemas/common";
import { TargetingSchema } from "../targeting/schema";

/** Longest timeout an agent can arm (Node's setTimeout fires at once beyond 2^31-1 ms). */
export const MAX_TIMEOUT_MS = 2_147_483_647;

/** Longest `command_text`, in UTF-8 bytes. */
export const MAX_COMMAND_TEXT_BYTES = 64 * 1024;

/** The contract's `CommandCreateRequest`. */
export const CommandCreateRequest = v.pipe(
  v.strictObject(
    {
      command_text: v.pipe(
        v.string("must be a string"),
        v.minLength(1, "can't be blank"),
        // Copied into every execution row and every exec frame: bounded in bytes (M3).
        v.check(
          (text) => new TextEncoder().encode(text).length <= MAX_COMMAND_TEXT_BYTES,
          `must be at most ${MAX_COMMAND_TEXT_BYTES} bytes`,
        ),
        v.description("Multi-line shell script/commands to execute (at most 65,536 bytes in UTF-8)"),
      ),
      targeting: TargetingSchema,
      timeout: v.optional(
        v.pipe(
          v.nullable(
            v.pipe(
              v.number("must be an integer"),
              v.integer("must be an integer"),
              v.minValue(1, "must be greater than 0"),
              v.maxValue(MAX_TIMEOUT_MS, `must be at most ${MAX_TIMEOUT_MS} (about 24.8 days)`),
            ),
          ),
          v.description("Command timeout in milliseconds (null or omitted means no timeout, must be > 0)"),
        ),
      ),
      expired_at: v.optional(
        v.pipe(
          v.nullable(FutureDateTimeInput),
          v.description(
            "Deadline after which pending/sent executions are automatically expired. Must be in the future. Immutable after creation.",
          ),
        ),
      ),
    },
    objectMessage,
  ),
  v.title("CommandCreateRequest"),
);

const TargetingResponse = v.object({
  type: v.picklist(["all", "nodes", "clusters"]),
  node_ids: v.optional(v.array(UuidOutput)),
  cluster_names: v.optional(v.array(v.string())),
  node_filters: v.optional(v.record(v.string(), v.unknown())),
  cluster_filters: v.optional(v.record(v.string(), v.unknown())),
});

/** The contract's `CommandResponse`. */
export const CommandResponseSchema = v.pipe(
  v.object({
    command_text: v.string(),
    expired_at: v.nullable(DateTimeOutput),
    id: UuidOutput,
    inserted_at: DateTimeOutput,
    targeting: v.pipe(
      TargetingResponse,
      v.description("Targeting configuration used when creating this command (informational only)"),
    ),
    timeout: v.nullable(v.number()),
    updated_at: DateTimeOutput,
  }),
  v.title("CommandResponse"),
);

/** A command's executions counted by status and exit code (beyond the contract). */
export const CommandSummarySchema = v.pipe(
  v.object({
    command_id: UuidOutput,
    total: v.number(),
    counts: v.pipe(
      v.object({
        pending: v.number(),
        sent: v.number(),
        completed: v.number(),
        cancelled: v.number(),
        expired: v.number(),
      }),
      v.description("Executions per status; every status is present"),
    ),
    exit_codes: v.pipe(
      v.record(v.string(), v.number()),
      v.description('Executions per reported exit code, e.g. {"0": 12, "1": 3}'),
    ),
    first_completed_at: v.nullable(DateTimeOutput),
    last_completed_at: v.nullable(DateTimeOutput),
  }),
  v.title("CommandSummary"),
);

export type CommandCreateInput = v.InferOutput<typeof CommandCreateRequest>;
export type CommandResponse = v.InferOutput<typeof CommandResponseSchema>;
export type CommandSummary = v.InferOutput<typeof CommandSummarySchema>;
