import type { Hono } from "hono";
import { HealthSchema } from "../../src/health/schema";
import { pingDatabase } from "../../src/health/store";
import { OUTPOST_VERSION } from "../../src/version";
import type { AppEnv } from "../middleware/request-context";
import { defineRoute } from "../openapi/define-route";

// workerd reports Date.now() as 0 while a module is being loaded, so the isolate's start is taken at its first request.
let startedAt: number | undefined;

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
      const database = await pingDatabase(c.get("db"));
      const data = {
        status: database.reachable ? ("ok" as const) : ("degraded" as const),
        version: OUTPOST_VERSION,
        uptime_seconds: Math.floor((Date.now() - startedAt) / 1000),
        database,
      };
      // Degraded health still carries the report, under 503, so a probe can read why.
      return database.reachable ? { data } : { data, status: 503 as const };
    },
  );
}
