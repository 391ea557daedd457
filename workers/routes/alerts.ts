import type { Hono } from "hono";
import { alertClusterName, SCOPE_COLUMNS } from "../../src/access/cluster-scope";
import { alertListSpec } from "../../src/alerts/list";
import { presentAlert } from "../../src/alerts/present";
import { AlertSchema } from "../../src/alerts/schema";
import { getAlert, listAlerts, setAcknowledged } from "../../src/alerts/store";
import { UuidParam } from "../../src/schemas/common";
import type { AppEnv } from "../middleware/request-context";
import { defineRoute } from "../openapi/define-route";
import { listRoute } from "../openapi/list-route";

const TAG = "Alerts";
const idParam = { id: { schema: UuidParam, description: "Alert ID" } };

/** Registers the alerts the node sessions record, and their acknowledgement. */
export function registerAlertRoutes(app: Hono<AppEnv>): void {
  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/alerts",
      permission: "alerts:read",
      clusterScope: { list: SCOPE_COLUMNS.alerts },
      tag: TAG,
      summary: "List alerts",
      list: alertListSpec,
      success: { status: 200, description: "Paginated list of alerts", data: AlertSchema, paginated: true },
      errors: [503],
    },
    listRoute({ page: listAlerts, present: (rows) => rows.map(presentAlert) }),
  );

  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/alerts/{id}",
      permission: "alerts:read",
      clusterScope: { param: { name: "id", clusterName: alertClusterName } },
      tag: TAG,
      summary: "Get alert",
      params: idParam,
      success: { status: 200, description: "The alert", data: AlertSchema },
      errors: [404, 503],
    },
    async (c, { params }) => ({ data: presentAlert(await getAlert(c.get("db"), params.id)) }),
  );

  for (const [action, acknowledged] of [
    ["acknowledge", true],
    ["unacknowledge", false],
  ] as const) {
    defineRoute(
      app,
      {
        method: "patch",
        path: `/api/v1/alerts/{id}/${action}`,
        permission: "alerts:write",
        clusterScope: { param: { name: "id", clusterName: alertClusterName } },
        tag: TAG,
        summary: acknowledged ? "Acknowledge alert" : "Take back an alert's acknowledgement",
        params: idParam,
        success: { status: 200, description: "The alert", data: AlertSchema },
        errors: [404, 503],
      },
      async (c, { params }) => ({
        data: presentAlert(await setAcknowledged(c.get("db"), params.id, acknowledged)),
      }),
    );
  }
}
