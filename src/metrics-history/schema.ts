import * as v from "valibot";
import { DateTimeInput, DateTimeOutput, UuidOutput } from "../schemas/common";
import { SERIES, type Series } from "./buckets";
import { TIER_NAMES } from "./tiers";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** The `range` shorthands and their length. */
export const RANGES = {
  "1h": HOUR,
  "6h": 6 * HOUR,
  "24h": DAY,
  "7d": 7 * DAY,
  "30d": 30 * DAY,
  "90d": 90 * DAY,
  "400d": 400 * DAY,
} as const;

export const DEFAULT_MAX_POINTS = 500;
export const MAX_MAX_POINTS = 5000;
const DEFAULT_METRICS: Series[] = ["cpu", "memory", "disk"];

const MetricsParam = v.optional(
  v.pipe(
    v.string(),
    v.transform((s) => s.split(",").map((m) => m.trim())),
    v.check(
      (names) => names.every((n) => (SERIES as readonly string[]).includes(n)),
      `unknown metric; known metrics: ${SERIES.join(", ")}`,
    ),
    v.transform((names) => [...new Set(names)] as Series[]),
  ),
  DEFAULT_METRICS.join(","),
);

const MaxPointsParam = v.optional(
  v.pipe(
    v.string(),
    v.regex(/^\d+$/, `must be an integer from 1 to ${MAX_MAX_POINTS}`),
    v.transform(Number),
    v.minValue(1, `must be an integer from 1 to ${MAX_MAX_POINTS}`),
    v.maxValue(MAX_MAX_POINTS, `must be an integer from 1 to ${MAX_MAX_POINTS}`),
  ),
  String(DEFAULT_MAX_POINTS),
);

/** The query parameters of `GET /api/v1/nodes/{node_id}/metrics/history`. */
export const HistoryQueryParams = {
  metrics: {
    schema: MetricsParam,
    description: `Comma-separated series: ${SERIES.join(", ")} (default cpu,memory,disk). Memory, disk and swap are percent used; temperature is the hottest sensor in °C; net_rx_bps and net_tx_bps are bytes per second over all interfaces but loopback. The last four need an agent that sends the fuller metrics.`,
  },
  from: { schema: v.optional(DateTimeInput), description: "Start (ISO 8601 with offset); not with range" },
  to: { schema: v.optional(DateTimeInput), description: "End (ISO 8601 with offset); default now" },
  range: {
    schema: v.optional(
      v.picklist(
        Object.keys(RANGES) as (keyof typeof RANGES)[],
        `must be one of ${Object.keys(RANGES).join(", ")}`,
      ),
    ),
    description: "Length of the window ending at `to` (default 24h); not with from",
  },
  resolution: {
    schema: v.optional(
      v.picklist([...TIER_NAMES, "auto"], `must be one of ${[...TIER_NAMES, "auto"].join(", ")}`),
      "auto",
    ),
    description:
      "raw, 1m, 5m, 1h, or auto (the finest tier that covers the range within max_points). Buckets are merged further when there would be more than max_points.",
  },
  max_points: {
    schema: MaxPointsParam,
    description: `Most points returned (default ${DEFAULT_MAX_POINTS}, at most ${MAX_MAX_POINTS})`,
  },
} as const;

const StatSchema = v.object({
  avg: v.number(),
  min: v.number(),
  max: v.number(),
});

/** One point: the bucket's start and avg/min/max of each series asked for that has data in it. */
export const HistoryPointSchema = v.object({
  timestamp: DateTimeOutput,
  ...Object.fromEntries(SERIES.map((s) => [s, v.optional(StatSchema)])),
} as { timestamp: typeof DateTimeOutput } & Record<Series, v.OptionalSchema<typeof StatSchema, undefined>>);

/** `GET /api/v1/nodes/{node_id}/metrics/history`: points oldest first; offline periods are gaps. */
export const MetricsHistorySchema = v.object({
  node_id: UuidOutput,
  from: DateTimeOutput,
  to: DateTimeOutput,
  resolution: v.picklist(TIER_NAMES),
  /** Width of each point in seconds after any merging (0 for raw samples). */
  step_seconds: v.number(),
  points: v.array(HistoryPointSchema),
});
export type MetricsHistoryResponse = v.InferOutput<typeof MetricsHistorySchema>;
