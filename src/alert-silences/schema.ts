import * as v from "valibot";
import { ALERT_METRICS } from "../alert-rules/metrics";
import { DateTimeInput, DateTimeOutput, objectMessage, UuidOutput } from "../schemas/common";
import { TargetingSchema } from "../targeting/schema";

/** `POST /api/v1/alert_silences`. */
export const AlertSilenceCreateRequest = v.pipe(
  v.strictObject(
    {
      targeting: v.optional(TargetingSchema, { type: "all" }),
      metric: v.optional(
        v.nullable(v.picklist(ALERT_METRICS, `must be one of: ${ALERT_METRICS.join(", ")}`)),
        null,
      ),
      starts_at: v.optional(DateTimeInput),
      ends_at: DateTimeInput,
      comment: v.pipe(
        v.string("must be a string"),
        v.trim(),
        v.minLength(1, "can't be blank"),
        v.maxLength(1000, "must be at most 1000 characters"),
      ),
    },
    objectMessage,
  ),
  v.forward(
    v.check((s) => s.ends_at > (s.starts_at ?? Date.now()), "must be after starts_at (and in the future)"),
    ["ends_at"],
  ),
  v.forward(
    v.check((s) => s.ends_at > Date.now(), "must be in the future"),
    ["ends_at"],
  ),
  v.title("AlertSilenceCreateRequest"),
  v.description(
    "Between starts_at (default now) and ends_at, alerts of the nodes the targeting selects (and of metric, when given) still fire and are recorded, but no notification is sent.",
  ),
);
export type AlertSilenceCreateInput = v.InferOutput<typeof AlertSilenceCreateRequest>;

/** A silence as the API shows it. */
export const AlertSilenceSchema = v.pipe(
  v.object({
    id: UuidOutput,
    targeting: v.object({
      type: v.picklist(["all", "nodes", "clusters"]),
      node_ids: v.optional(v.array(UuidOutput)),
      cluster_names: v.optional(v.array(v.string())),
      node_filters: v.optional(v.record(v.string(), v.unknown())),
      cluster_filters: v.optional(v.record(v.string(), v.unknown())),
    }),
    metric: v.nullable(v.picklist(ALERT_METRICS)),
    starts_at: DateTimeOutput,
    ends_at: DateTimeOutput,
    comment: v.string(),
    created_by: v.string(),
    active: v.pipe(v.boolean(), v.description("Whether it silences now")),
    inserted_at: DateTimeOutput,
    updated_at: DateTimeOutput,
  }),
  v.title("AlertSilence"),
);
export type AlertSilenceResponse = v.InferOutput<typeof AlertSilenceSchema>;
