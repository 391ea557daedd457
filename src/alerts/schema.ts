import * as v from "valibot";
import { ALERT_METRICS } from "../alert-rules/schema";
import { DateTimeInput, DateTimeOutput, objectMessage, UuidOutput } from "../schemas/common";

/** An alert as the API shows it: one episode of a rule firing on a node. */
export const AlertSchema = v.pipe(
  v.object({
    id: UuidOutput,
    rule_id: UuidOutput,
    node_id: UuidOutput,
    metric: v.picklist(ALERT_METRICS),
    level: v.picklist(["warning", "critical"]),
    status: v.picklist(["firing", "resolved"]),
    value: v.pipe(v.number(), v.description("Value at the latest transition")),
    peak_value: v.pipe(
      v.number(),
      v.description("Most extreme value while firing (as of the latest transition)"),
    ),
    threshold: v.number(),
    acknowledged: v.boolean(),
    acknowledged_at: v.nullable(DateTimeOutput),
    started_at: DateTimeOutput,
    resolved_at: v.nullable(DateTimeOutput),
    cleared_at: v.pipe(v.nullable(DateTimeOutput), v.description("Set when an operator cleared it by hand")),
    last_notified_at: v.pipe(
      v.nullable(DateTimeOutput),
      v.description("When notification channels were last told about it"),
    ),
    updated_at: DateTimeOutput,
  }),
  v.title("Alert"),
);
export type AlertResponse = v.InferOutput<typeof AlertSchema>;

/** `PATCH /api/v1/alerts/acknowledge` and `PATCH /api/v1/alerts/clear`. */
export const AlertBulkRequest = v.pipe(
  v.strictObject(
    {
      ids: v.pipe(
        v.array(
          v.pipe(v.string("must be a UUID"), v.uuid("must be a UUID")),
          "must be an array of alert ids",
        ),
        v.minLength(1, "must contain at least one alert id"),
        v.maxLength(500, "must contain at most 500 alert ids"),
        v.transform((ids) => [...new Set(ids.map((id) => id.toLowerCase()))]),
      ),
    },
    objectMessage,
  ),
  v.title("AlertBulkRequest"),
);

/** What a bulk action did: the alerts as they are now, how many it changed, and ids not found. */
export const AlertBulkResultSchema = v.pipe(
  v.object({
    alerts: v.array(AlertSchema),
    changed: v.pipe(v.number(), v.description("Alerts this request changed (others already were)")),
    not_found: v.array(UuidOutput),
  }),
  v.title("AlertBulkResult"),
);
export type AlertBulkResult = v.InferOutput<typeof AlertBulkResultSchema>;

/** `DELETE /api/v1/alerts`: resolved alerts only, up to a time. */
export const AlertDeleteQueryParams = {
  resolved_at__lte: {
    schema: v.optional(DateTimeInput),
    description: "Required. Deletes resolved alerts whose resolved_at is at or before this time (ISO 8601)",
  },
} as const;

export const AlertDeleteResultSchema = v.pipe(
  v.object({ deleted: v.pipe(v.number(), v.description("Resolved alerts deleted")) }),
  v.title("AlertDeleteResult"),
);

/** `POST /api/v1/alerts/{id}/notes`. */
export const AlertNoteCreateRequest = v.pipe(
  v.strictObject(
    {
      body: v.pipe(
        v.string("must be a string"),
        v.trim(),
        v.minLength(1, "can't be blank"),
        v.maxLength(4000, "must be at most 4000 characters"),
      ),
    },
    objectMessage,
  ),
  v.title("AlertNoteCreateRequest"),
);

export const AlertNoteSchema = v.pipe(
  v.object({
    id: UuidOutput,
    alert_id: UuidOutput,
    body: v.string(),
    author: v.pipe(v.string(), v.description("Who wrote it (username, token name or API_KEY)")),
    inserted_at: DateTimeOutput,
  }),
  v.title("AlertNote"),
);
export type AlertNoteResponse = v.InferOutput<typeof AlertNoteSchema>;
