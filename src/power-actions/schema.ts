import * as v from "valibot";
import { DateTimeOutput, UuidOutput } from "../schemas/common";
import { POWER_ACTION_STATUSES } from "./status";

/** A power action (C9, beyond the contract). */
export const PowerActionResponseSchema = v.pipe(
  v.object({
    id: UuidOutput,
    node_id: v.pipe(v.nullable(UuidOutput), v.description("The node (null once it is deleted)")),
    action: v.picklist(["reboot", "shutdown"]),
    status: v.pipe(
      v.picklist(POWER_ACTION_STATUSES),
      v.description(
        "waiting (held back by the fleet form's `max_concurrency` until a slot frees), pending (not yet scheduled on the machine), scheduled (until due), issued (due), completed (a reboot confirmed by a new boot id), failed (scheduling failed), cancelled, expired (never delivered in time)",
      ),
    ),
    delay_seconds: v.number(),
    force: v.boolean(),
    message: v.nullable(v.string()),
    unit: v.pipe(v.string(), v.description("The systemd timer unit on the machine (`<unit>.timer`)")),
    scheduled_at: DateTimeOutput,
    cancelled_at: v.nullable(DateTimeOutput),
    confirmed_at: v.pipe(
      v.nullable(DateTimeOutput),
      v.description("Reboots: when the node's agent said hello with a new boot id"),
    ),
    previous_boot_id: v.nullable(v.string()),
    downtime_seconds: v.pipe(
      v.nullable(v.number()),
      v.description("Reboots: from the node's last sign of life before the reboot to its hello after it"),
    ),
    command_id: UuidOutput,
    execution_id: UuidOutput,
    inserted_at: DateTimeOutput,
  }),
  v.title("PowerActionResponse"),
);
export type PowerActionResponse = v.InferOutput<typeof PowerActionResponseSchema>;
