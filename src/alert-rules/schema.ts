import * as v from "valibot";
import { DateTimeOutput, objectMessage, UuidOutput } from "../schemas/common";
import { TargetingSchema } from "../targeting/schema";

import { ALERT_METRICS } from "./metrics";

export { ALERT_METRICS };
export const ALERT_OPERATORS = ["gt", "lt"] as const;

const Threshold = v.pipe(v.number("must be a number"), v.finite("must be a finite number"));
const Seconds = (max: number) =>
  v.pipe(
    v.number("must be a number"),
    v.integer("must be an integer"),
    v.minValue(0, "must be ≥ 0"),
    v.maxValue(max, `must be ≤ ${max}`),
  );
const ChannelIds = v.pipe(
  v.array(v.pipe(v.string(), v.uuid("must be a UUID")), "must be an array of UUIDs"),
  v.maxLength(20, "at most 20 channels"),
  v.transform((ids) => [...new Set(ids.map((id) => id.toLowerCase()))]),
);

const fields = {
  name: v.pipe(v.string("must be a string"), v.trim(), v.minLength(1, "can't be blank"), v.maxLength(100)),
  metric: v.picklist(ALERT_METRICS, `must be one of: ${ALERT_METRICS.join(", ")}`),
  operator: v.picklist(ALERT_OPERATORS, "must be gt or lt"),
  warning_threshold: Threshold,
  critical_threshold: v.nullable(Threshold),
  for_seconds: Seconds(86_400),
  targeting: TargetingSchema,
  enabled: v.boolean("must be a boolean"),
  channel_ids: ChannelIds,
  repeat_interval_seconds: Seconds(7 * 86_400),
};

// A critical threshold is the more severe one: above the warning for gt, below it for lt.
function severityOrdered(r: {
  operator?: string;
  warning_threshold?: number;
  critical_threshold?: number | null;
}): boolean {
  if (r.critical_threshold == null || r.warning_threshold === undefined) return true;
  return r.operator === "lt"
    ? r.critical_threshold < r.warning_threshold
    : r.critical_threshold > r.warning_threshold;
}

const ORDER_MESSAGE = "must be beyond warning_threshold in the operator's direction (gt: higher, lt: lower)";

/** `POST /api/v1/alert_rules`. */
export const AlertRuleCreateRequest = v.pipe(
  v.strictObject(
    {
      name: fields.name,
      metric: fields.metric,
      operator: v.optional(fields.operator, "gt"),
      warning_threshold: fields.warning_threshold,
      critical_threshold: v.optional(fields.critical_threshold, null),
      for_seconds: v.optional(fields.for_seconds, 60),
      targeting: v.optional(fields.targeting, { type: "all" }),
      enabled: v.optional(fields.enabled, true),
      channel_ids: v.optional(fields.channel_ids, []),
      repeat_interval_seconds: v.optional(fields.repeat_interval_seconds, 3600),
    },
    objectMessage,
  ),
  v.forward(
    v.check((r) => severityOrdered(r), ORDER_MESSAGE),
    ["critical_threshold"],
  ),
  v.title("AlertRuleCreateRequest"),
);
export type AlertRuleCreateInput = v.InferOutput<typeof AlertRuleCreateRequest>;

/** `PATCH /api/v1/alert_rules/{id}`: any subset; the merged rule is checked again by the store. */
export const AlertRuleUpdateRequest = v.pipe(
  v.strictObject(
    {
      name: v.optional(fields.name),
      metric: v.optional(fields.metric),
      operator: v.optional(fields.operator),
      warning_threshold: v.optional(fields.warning_threshold),
      critical_threshold: v.optional(fields.critical_threshold),
      for_seconds: v.optional(fields.for_seconds),
      targeting: v.optional(fields.targeting),
      enabled: v.optional(fields.enabled),
      channel_ids: v.optional(fields.channel_ids),
      repeat_interval_seconds: v.optional(fields.repeat_interval_seconds),
    },
    objectMessage,
  ),
  v.title("AlertRuleUpdateRequest"),
);
export type AlertRuleUpdateInput = v.InferOutput<typeof AlertRuleUpdateRequest>;

/** True when the rule's thresholds are ordered by severity (the store's check after a PATCH). */
export function thresholdsOrdered(r: {
  operator: string;
  warning_threshold: number;
  critical_threshold: number | null;
}): boolean {
  return severityOrdered(r);
}
export { ORDER_MESSAGE };

/** An alert rule as the API shows it. */
export const AlertRuleSchema = v.pipe(
  v.object({
    id: UuidOutput,
    name: v.string(),
    metric: v.picklist(ALERT_METRICS),
    operator: v.picklist(ALERT_OPERATORS),
    warning_threshold: v.number(),
    critical_threshold: v.nullable(v.number()),
    for_seconds: v.number(),
    targeting: v.object({
      type: v.picklist(["all", "nodes", "clusters"]),
      node_ids: v.optional(v.array(UuidOutput)),
      cluster_names: v.optional(v.array(v.string())),
      node_filters: v.optional(v.record(v.string(), v.unknown())),
      cluster_filters: v.optional(v.record(v.string(), v.unknown())),
    }),
    enabled: v.boolean(),
    channel_ids: v.array(UuidOutput),
    repeat_interval_seconds: v.number(),
    inserted_at: DateTimeOutput,
    updated_at: DateTimeOutput,
  }),
  v.title("AlertRule"),
);
export type AlertRuleResponse = v.InferOutput<typeof AlertRuleSchema>;
