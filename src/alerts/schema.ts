import * as v from "valibot";
import { ALERT_METRICS } from "../alert-rules/schema";
import { DateTimeOutput, UuidOutput } from "../schemas/common";

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
    updated_at: DateTimeOutput,
  }),
  v.title("Alert"),
);
export type AlertResponse = v.InferOutput<typeof AlertSchema>;
