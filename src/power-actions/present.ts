import { isoOrNull, isoSeconds } from "../time";
import type { PowerActionResponse } from "./schema";
import type { PowerActionRow } from "./store";

/** Renders a power action row. */
export function presentPowerAction(row: PowerActionRow): PowerActionResponse {
  return {
    id: row.id,
    node_id: row.nodeId,
    action: row.action,
    status: row.status,
    delay_seconds: row.delaySeconds,
    force: row.force,
    message: row.message,
    unit: row.unit,
    scheduled_at: isoSeconds(row.scheduledAt),
    cancelled_at: isoOrNull(row.cancelledAt),
    confirmed_at: isoOrNull(row.confirmedAt),
    previous_boot_id: row.previousBootId,
    downtime_seconds: row.downtimeSeconds,
    command_id: row.commandId,
    execution_id: row.executionId,
    inserted_at: isoSeconds(row.insertedAt),
  };
}
