import * as v from "valibot";

/** `GET /health`: status, version, isolate uptime and whether the database answers. */
export const HealthSchema = v.pipe(
  v.object({
    status: v.picklist(["ok", "degraded"]),
    version: v.string(),
    uptime_seconds: v.pipe(v.number(), v.integer()),
    database: v.object({
      reachable: v.boolean(),
      latency_ms: v.nullable(v.number()),
      error: v.nullable(v.string()),
    }),
  }),
  v.title("Health"),
);
export type Health = v.InferOutput<typeof HealthSchema>;
