import * as v from "valibot";
import { EXECUTION_STATUSES } from "../db/schema";
import { DateTimeOutput, UuidOutput } from "../schemas/common";

/** The contract's `CommandExecutionResponse`. */
export const CommandExecutionResponseSchema = v.pipe(
  v.object({
    cancelled_at: v.nullable(DateTimeOutput),
    cluster_name: v.pipe(
      v.nullable(v.string()),
      v.description(
        "The cluster explicitly targeted when this execution was created: set only for clusters targeting of a single cluster",
      ),
    ),
    command_id: UuidOutput,
    command_text: v.nullable(v.string()),
    completed_at: v.nullable(DateTimeOutput),
    exit_code: v.nullable(v.pipe(v.number(), v.integer())),
    expired_at: v.nullable(DateTimeOutput),
    id: UuidOutput,
    inserted_at: DateTimeOutput,
    node_id: v.pipe(v.nullable(UuidOutput), v.description("ID of the target node (null once it is deleted)")),
    output: v.pipe(
      v.nullable(v.string()),
      v.description(
        "The command's output (at most 1 MiB). In lists, at most the first 16,384 characters, and a page carries at most 4 MiB of JSON-encoded output: rows past that budget have an empty `output` (see `output_truncated`); `GET /api/v1/command_executions/{id}` serves it whole",
      ),
    ),
    output_truncated: v.optional(
      v.pipe(
        v.boolean(),
        v.description(
          "Lists only (beyond the contract): true when `output` was cut to its first 16,384 characters, or left empty because the page's 4 MiB output budget was spent, so a page stays bounded in size; read the execution by id for the whole output",
        ),
      ),
    ),
    sent_at: v.nullable(DateTimeOutput),
    started_at: v.pipe(
      v.nullable(DateTimeOutput),
      v.description(
        "Beyond the contract: when the agent started the process (else when it was sent), once finished",
      ),
    ),
    duration_ms: v.pipe(
      v.nullable(v.pipe(v.number(), v.integer())),
      v.description(
        "Beyond the contract: how long the process ran, in milliseconds, as the agent measured it",
      ),
    ),
    status: v.picklist(EXECUTION_STATUSES),
    target_all: v.boolean(),
    timeout: v.nullable(v.pipe(v.number(), v.integer())),
    updated_at: DateTimeOutput,
  }),
  v.title("CommandExecutionResponse"),
);
export type CommandExecutionResponse = v.InferOutput<typeof CommandExecutionResponseSchema>;

/** The contract's `CancelExecutionData`: what `PATCH …/cancel` did. */
export const CancelExecutionData = v.pipe(
  v.object({ result: v.pipe(v.string(), v.description("Cancellation request status message")) }),
  v.title("CancelExecutionData"),
);
