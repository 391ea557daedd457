import { isoSeconds } from "../time";
import type { AlertSilenceResponse } from "./schema";
import type { AlertSilenceRow } from "./store";

/** Renders a silence row; `active` against the clock now. */
export function presentAlertSilence(row: AlertSilenceRow, now = Date.now()): AlertSilenceResponse {
  return {
    id: row.id,
    targeting: JSON.parse(row.targeting) as AlertSilenceResponse["targeting"],
    metric: row.metric as AlertSilenceResponse["metric"],
    starts_at: isoSeconds(row.startsAt),
    ends_at: isoSeconds(row.endsAt),
    comment: row.comment,
    created_by: row.createdBy,
    active: row.startsAt <= now && row.endsAt > now,
    inserted_at: isoSeconds(row.insertedAt),
    updated_at: isoSeconds(row.updatedAt),
  };
}
