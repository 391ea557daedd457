import * as v from "valibot";
import { CommandExecutionResponseSchema } from "../command-executions/schema";
import { DateTimeOutput, FutureDateTimeInput, objectMessage, UuidOutput } from "../schemas/common";
import { TARGETING_TYPES, TargetingSchema } from "../targeting/schema";
import { LimitInput, needsMaxConcurrency, ROLLOUT_ORDERS, ROLLOUT_STATUSES } from "./rollout-limits";

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
      wait_seconds: v.optional(
        v.pipe(
          v.number("must be an integer"),
          v.integer("must be an integer"),
          v.minValue(1, "must be between 1 and 60"),
          v.maxValue(60, "must be between 1 and 60"),
          v.description(
            "Beyond the contract: hold the answer until every execution is finished or this many seconds have passed (1–60); the answer then carries `executions` and `meta.complete`",
          ),
        ),
      ),
      max_concurrency: v.optional(
        v.pipe(
          LimitInput(1),
          v.description(
            'Beyond the contract: run at most this many executions at once (a number, or a percentage of the targets such as "10%", at least 1); the others wait as `pending` and start as slots free. Omitted: all at once',
          ),
        ),
      ),
      max_errors: v.optional(
        v.pipe(
          LimitInput(0),
          v.description(
            "Beyond the contract: stop the rollout once more executions than this failed (non-zero exit or expired): a number or a percentage of the targets. Executions still waiting are cancelled. Needs `max_concurrency`",
          ),
        ),
      ),
      rollout_order: v.optional(
        v.pipe(
          v.picklist(ROLLOUT_ORDERS, `must be one of: ${ROLLOUT_ORDERS.join(", ")}`),
          v.description(
            "Beyond the contract: the order nodes get their turn: oldest node first (default) or random",
          ),
        ),
      ),
    },
    objectMessage,
  ),
  needsMaxConcurrency("max_errors"),
  needsMaxConcurrency("rollout_order"),
  v.title("CommandCreateRequest"),
);

const RolloutSchema = v.object({
  max_concurrency: v.pipe(
    v.string(),
    v.description('As given: a count ("2") or a share of the targets ("10%")'),
  ),
  max_errors: v.pipe(
    v.nullable(v.string()),
    v.description("As given; null when the rollout never stops on errors"),
  ),
  concurrency_limit: v.pipe(v.number(), v.description("`max_concurrency` resolved against the target count")),
  error_limit: v.pipe(
    v.nullable(v.number()),
    v.description("`max_errors` resolved against the target count"),
  ),
  order: v.picklist(ROLLOUT_ORDERS),
  status: v.pipe(
    v.picklist(ROLLOUT_STATUSES),
    v.description(
      "running, paused (no new executions start), completed (none waits any more), stopped (errors passed `max_errors`; the waiting ones were cancelled) or cancelled",
    ),
  ),
  reason: v.pipe(v.nullable(v.string()), v.description("Why the rollout stopped or was cancelled")),
});

const TargetingResponse = v.object({
  type: v.picklist(TARGETING_TYPES),
  node_ids: v.optional(v.array(UuidOutput)),
  cluster_names: v.optional(v.array(v.string())),
  hostnames: v.optional(v.array(v.string())),
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
    rollout: v.pipe(
      v.nullable(RolloutSchema),
      v.description(
        "Beyond the contract: the rollout's limits and state; null for a command sent to every target at once",
      ),
    ),
    truncated: v.pipe(
      v.optional(v.literal(true)),
      v.description(
        "Lists only (beyond the contract): present when the page's 4 MiB budget was spent, so this row's `command_text` is empty and its targeting lists are empty; read the command by id for all of it",
      ),
    ),
  }),
  v.title("CommandResponse"),
);

/** One execution in a synchronous command's answer (C11). */
export const WaitedExecutionSchema = v.object({
  id: UuidOutput,
  node_id: v.nullable(UuidOutput),
  hostname: v.nullable(v.string()),
  status: CommandExecutionResponseSchema.entries.status,
  exit_code: v.nullable(v.pipe(v.number(), v.integer())),
  output: v.nullable(v.string()),
  started_at: v.nullable(DateTimeOutput),
  duration_ms: v.nullable(v.pipe(v.number(), v.integer())),
});

/** `POST /api/v1/commands`' answer: the command, and its executions when `wait_seconds` was given. */
export const CommandCreatedSchema = v.pipe(
  v.object({
    ...CommandResponseSchema.entries,
    executions: v.pipe(
      v.optional(v.array(WaitedExecutionSchema)),
      v.description(
        "Beyond the contract, with `wait_seconds` only: every execution as it stood when the wait ended (output at most 1 MiB each)",
      ),
    ),
  }),
  v.title("CommandCreatedResponse"),
);

/** `meta` of `POST /api/v1/commands` beyond the request id and timestamp. */
export const CommandCreatedMetaSchema = v.object({
  complete: v.pipe(
    v.optional(v.boolean()),
    v.description("With `wait_seconds`: true when every execution finished within the wait"),
  ),
  warnings: v.pipe(
    v.optional(v.array(v.string())),
    v.description("Targeting warnings: hostnames matching several nodes, or none"),
  ),
});

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
    rollout: v.pipe(
      v.optional(RolloutSchema),
      v.description(
        "Beyond the contract, rollouts only: the command's rollout (its status says whether it stopped, and why)",
      ),
    ),
  }),
  v.title("CommandSummary"),
);

export type CommandCreateInput = v.InferOutput<typeof CommandCreateRequest>;
export type CommandResponse = v.InferOutput<typeof CommandResponseSchema>;
export type CommandCreated = v.InferOutput<typeof CommandCreatedSchema>;
export type WaitedExecution = v.InferOutput<typeof WaitedExecutionSchema>;
export type CommandSummary = v.InferOutput<typeof CommandSummarySchema>;
