import { sql } from "drizzle-orm";
import type { Hono } from "hono";
import * as v from "valibot";
import { OUTPOST_VERSION } from "../../src/version";
import type { AppEnv } from "../middleware/request-context";
import { defineRoute } from "../openapi/define-route";

// workerd reports Date.now() as 0 while a module is being loaded, so the isolate's start is taken at its first request.
let startedAt: number | undefined;

const HealthSchema = v.object({
  status: v.picklist(["ok", "degraded"]),
  version: v.string(),
  uptime_seconds: v.number(),
  database: v.object({
    reachable: v.boolean(),
    latency_ms: v.nullable(v.number()),
    error: v.nullable(v.string()),
  }),
});

/** Registers the public `GET /health`: 200 when the database answers, 503 when it does not. */
export function registerHealthRoutes(app: Hono<AppEnv>): void {
  defineRoute(
    app,
    {
      method: "get",
      path: "/health",
      tag: "Health",
      public: true,
      summary: "Service health",
      description:
        "Status, version, isolate uptime and database reachability. 503 when the database is unreachable.",
      success: { status: 200, description: "Healthy", data: HealthSchema },
      errors: [503],
    },
    async (c) => {
      startedAt ??= Date.now();
      const began = Date.now();
      let error: string | null = null;
      try {
        await c.get("db").run(sql`SELECT 1`);
      } catch (err) {
        error = (err as Error).message;
      }
      const data = {
        status: error ? ("degraded" as const) : ("ok" as const),
        version: OUTPOST_VERSION,
        uptime_seconds: Math.floor((Date.now() - startedAt) / 1000),
        database: { reachable: !error, latency_ms: error ? null : Date.now() - began, error },
      };
      // Degraded health still carries the report, under 503, so a probe can read why.
      return error ? { data, status: 503 as const } : { data };
    },
  );
}
