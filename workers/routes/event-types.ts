import type { Hono } from "hono";
import * as v from "valibot";
import { EVENT_TYPES } from "../../src/events/catalog";
import type { AppEnv } from "../middleware/request-context";
import { defineRoute } from "../openapi/define-route";

/** Registers `GET /api/v1/event_types` (seed: Events.Type): the code-owned catalog, in order. */
export function registerEventTypeRoutes(app: Hono<AppEnv>): void {
  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/event_types",
      tag: "Events.Type",
      summary: "List event types",
      description:
        "The full catalog of event types, in catalog order. Every value is valid in a webhook's subscribed_events.",
      success: { status: 200, description: "Event type catalog", data: v.array(v.picklist(EVENT_TYPES)) },
    },
    async () => ({ data: [...EVENT_TYPES] }),
  );
}
