import * as v from "valibot";
import { REBOOT_ORCHESTRATION_STATUSES } from "../db/schema";
import { CHILD_STATUSES, CHILD_TYPES } from "../protocol/inventory-sections";
import { DateTimeOutput, objectMessage, UuidOutput } from "../schemas/common";

export { REBOOT_ORCHESTRATION_STATUSES };
export type RebootOrchestrationStatus = (typeof REBOOT_ORCHESTRATION_STATUSES)[number];

/** States an orchestration leaves no more. */
export const TERMINAL_ORCHESTRATION_STATUSES = ["completed", "failed", "cancelled"] as const;

export const RESTART_STATUSES = ["pending", "running", "failed", "skipped"] as const;

/** `POST /api/v1/nodes/{node_id}/reboot_orchestrations` (C10). */
export const RebootOrchestrationRequest = v.pipe(
  v.strictObject(
    {
      shutdown_timeout_seconds: v.optional(
        v.pipe(
          v.number("must be an integer"),
          v.integer("must be an integer"),
          v.minValue(1, "must be between 1 and 3600"),
          v.maxValue(3600, "must be between 1 and 3600"),
          v.description("Seconds each child is given to shut down cleanly (1–3,600, default 120)"),
        ),
        120,
      ),
      force_stop_on_timeout: v.optional(
        v.pipe(
          v.boolean("must be true or false"),
          v.description(
            "Kill a child still running after the timeout (default false: the orchestration fails instead and the children are started again)",
          ),
        ),
        false,
      ),
    },
    objectMessage,
  ),
  v.title("RebootOrchestrationRequest"),
);
export type RebootOrchestrationInput = v.InferOutput<typeof RebootOrchestrationRequest>;

const ChildType = v.picklist(CHILD_TYPES);

/** A child as the orchestration saw it when it began. */
export const SnapshotChildSchema = v.object({
  id: v.string(),
  child_name: v.string(),
  child_type: ChildType,
  pre_reboot_status: v.picklist(CHILD_STATUSES),
});
export type SnapshotChild = v.InferOutput<typeof SnapshotChildSchema>;

/** How starting one snapshot child again went. */
export const RestartChildSchema = v.object({
  id: v.string(),
  child_name: v.string(),
  restart_status: v.pipe(
    v.picklist(RESTART_STATUSES),
    v.description(
      "pending (not started yet), running (started again, or already running), failed (see error), skipped (was not running when the shutdown began, or no longer exists)",
    ),
  ),
  error: v.nullable(v.string()),
});
export type RestartChild = v.InferOutput<typeof RestartChildSchema>;

/** `GET /api/v1/nodes/{node_id}/reboot_precheck` (C10, seed 000's pre-check). */
export const RebootPrecheckResponseSchema = v.pipe(
  v.object({
    has_running_children: v.boolean(),
    running_children: v.array(
      v.object({
        id: v.string(),
        child_name: v.string(),
        child_type: ChildType,
        status: v.picklist(CHILD_STATUSES),
      }),
    ),
    running_count: v.number(),
    total_children: v.number(),
    has_container_engine: v.pipe(
      v.boolean(),
      v.description("Whether any container or VM engine answered on the node"),
    ),
    reported_at: v.pipe(
      v.nullable(DateTimeOutput),
      v.description("When the agent collected the `children` inventory section this answer is from"),
    ),
  }),
  v.title("RebootPrecheckResponse"),
);
export type RebootPrecheckResponse = v.InferOutput<typeof RebootPrecheckResponseSchema>;

/** An orchestrated reboot (C10), with seed 000's fields and Outpost's ids and step commands. */
export const RebootOrchestrationResponseSchema = v.pipe(
  v.object({
    id: UuidOutput,
    node_id: v.pipe(v.nullable(UuidOutput), v.description("The parent node (null once it is deleted)")),
    status: v.pipe(
      v.picklist(REBOOT_ORCHESTRATION_STATUSES),
      v.description(
        "pending → shutting_down → rebooting → waiting_for_agent → restarting_children → completed | failed | cancelled",
      ),
    ),
    child_count: v.pipe(v.number(), v.description("Children that were running when it began")),
    child_hosts_snapshot: v.array(SnapshotChildSchema),
    child_hosts_restart_status: v.array(RestartChildSchema),
    shutdown_timeout_seconds: v.number(),
    force_stop_on_timeout: v.boolean(),
    initiated_by: v.pipe(v.string(), v.description("The principal that started it")),
    initiated_at: DateTimeOutput,
    shutdown_completed_at: v.nullable(DateTimeOutput),
    reboot_issued_at: v.nullable(DateTimeOutput),
    agent_reconnected_at: v.nullable(DateTimeOutput),
    restart_completed_at: v.nullable(DateTimeOutput),
    error_message: v.nullable(v.string()),
    stop_command_id: v.pipe(
      v.nullable(UuidOutput),
      v.description("The typed command that stopped the children"),
    ),
    power_action_id: v.pipe(v.nullable(UuidOutput), v.description("The reboot (a power action)")),
    start_command_id: v.pipe(
      v.nullable(UuidOutput),
      v.description("The typed command that started the children again"),
    ),
    updated_at: DateTimeOutput,
  }),
  v.title("RebootOrchestrationResponse"),
);
export type RebootOrchestrationResponse = v.InferOutput<typeof RebootOrchestrationResponseSchema>;
