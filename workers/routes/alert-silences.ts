import type { Hono } from "hono";
import { alertSilenceListSpec } from "../../src/alert-silences/list";
import { presentAlertSilence } from "../../src/alert-silences/present";
import { AlertSilenceCreateRequest, AlertSilenceSchema } from "../../src/alert-silences/schema";
import {
  createAlertSilence,
  deleteAlertSilence,
  getAlertSilence,
  listAlertSilences,
} from "../../src/alert-silences/store";
import { UuidParam } from "../../src/schemas/common";
import { principalOf } from "../middleware/authorize";
import type { AppEnv } from "../middleware/request-context";
import { defineRoute } from "../openapi/define-route";
import { listRoute } from "../openapi/list-route";

const TAG = "Alerts.Silences";
const idParam = { id: { schema: UuidParam, description: "Alert silence ID" } };

/** Registers alert silences: alerts still fire and are recorded, but channels are not notified. */
export function registerAlertSilenceRoutes(app: Hono<AppEnv>): void {
  defineRoute(
    app,
    {
      method: "post",
      path: "/api/v1/alert_silences",
      permission: "alert_silences:write",
      tag: TAG,
      summary: "Create alert silence",
      body: AlertSilenceCreateRequest,
      success: { status: 201, description: "Silence created", data: AlertSilenceSchema },
      errors: [422, 503],
    },
    async (c, { body }) => ({
      data: presentAlertSilence(await createAlertSilence(c.get("db"), body, principalOf(c).name)),
    }),
  );

  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/alert_silences",
      permission: "alert_silences:read",
      tag: TAG,
      summary: "List alert silences",
      list: alertSilenceListSpec,
      success: {
        status: 200,
        description: "Paginated list of silences",
        data: AlertSilenceSchema,
        paginated: true,
      },
      errors: [503],
    },
    listRoute({ page: listAlertSilences, present: (rows) => rows.map((r) => presentAlertSilence(r)) }),
  );

  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/alert_silences/{id}",
      permission: "alert_silences:read",
      tag: TAG,
      summary: "Get alert silence",
      params: idParam,
      success: { status: 200, description: "The silence", data: AlertSilenceSchema },
      errors: [404, 503],
    },
    async (c, { params }) => ({ data: presentAlertSilence(await getAlertSilence(c.get("db"), params.id)) }),
  );

  defineRoute(
    app,
    {
      method: "delete",
      path: "/api/v1/alert_silences/{id}",
      permission: "alert_silences:write",
      tag: TAG,
      summary: "Delete alert silence",
      description: "Ends the silence at once (notifications resume with the next transition or repeat).",
      params: idParam,
      success: { status: 204, description: "Deleted", data: null },
      errors: [404, 503],
    },
    async (c, { params }) => {
      await deleteAlertSilence(c.get("db"), params.id);
    },
  );
}
