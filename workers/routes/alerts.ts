import type { Hono } from "hono";
import * as v from "valibot";
import { alertClusterName, SCOPE_COLUMNS } from "../../src/access/cluster-scope";
import {
  acknowledgeAlerts,
  addAlertNote,
  alertNotesOf,
  clearAlert,
  clearAlerts,
  deleteResolvedAlerts,
} from "../../src/alerts/actions";
import { alertListSpec } from "../../src/alerts/list";
import { presentAlert, presentAlertNote } from "../../src/alerts/present";
import {
  AlertBulkRequest,
  AlertBulkResultSchema,
  AlertDeleteQueryParams,
  AlertDeleteResultSchema,
  AlertNoteCreateRequest,
  AlertNoteSchema,
  AlertSchema,
} from "../../src/alerts/schema";
import { getAlert, listAlerts, setAcknowledged } from "../../src/alerts/store";
import { UuidParam } from "../../src/schemas/common";
import { ApiError } from "../errors";
import { principalOf } from "../middleware/authorize";
import type { AppEnv } from "../middleware/request-context";
import { defineRoute } from "../openapi/define-route";
import { listRoute } from "../openapi/list-route";

const TAG = "Alerts";
const idParam = { id: { schema: UuidParam, description: "Alert ID" } };

/** Registers the alerts the node sessions record, and what operators do with them. */
export function registerAlertRoutes(app: Hono<AppEnv>): void {
  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/alerts",
      permission: "alerts:read",
      clusterScope: { list: SCOPE_COLUMNS.alerts },
      tag: TAG,
      summary: "List alerts (current and history)",
      list: alertListSpec,
      success: { status: 200, description: "Paginated list of alerts", data: AlertSchema, paginated: true },
      errors: [503],
    },
    listRoute({ page: listAlerts, present: (rows) => rows.map(presentAlert) }),
  );

  defineRoute(
    app,
    {
      method: "delete",
      path: "/api/v1/alerts",
      permission: "alerts:write",
      tag: TAG,
      summary: "Delete resolved alerts",
      description:
        "Deletes resolved alerts (with their notes) resolved at or before resolved_at__lte. Firing alerts are never deleted.",
      query: AlertDeleteQueryParams,
      success: { status: 200, description: "How many were deleted", data: AlertDeleteResultSchema },
      errors: [503],
    },
    async (c, { query }) => {
      // Required, so that a bare DELETE never empties the whole history.
      if (query.resolved_at__lte === undefined)
        throw new ApiError("bad_request", "Missing query parameter", { resolved_at__lte: ["is required"] });
      return { data: { deleted: await deleteResolvedAlerts(c.get("db"), query.resolved_at__lte) } };
    },
  );

  for (const [action, run] of [
    ["acknowledge", acknowledgeAlerts],
    ["clear", clearAlerts],
  ] as const) {
    defineRoute(
      app,
      {
        method: "patch",
        path: `/api/v1/alerts/${action}`,
        permission: "alerts:write",
        tag: TAG,
        summary: action === "acknowledge" ? "Acknowledge alerts" : "Clear alerts",
        description:
          action === "acknowledge"
            ? "Acknowledges every listed alert not yet acknowledged (stops repeat notifications)."
            : "Resolves every listed firing alert by hand (cleared_at); resolved ones are left as they are.",
        body: AlertBulkRequest,
        success: { status: 200, description: "The alerts as they are now", data: AlertBulkResultSchema },
        errors: [422, 503],
      },
      async (c, { body }) => {
        const result = await run(c.get("db"), body.ids);
        return {
          data: {
            alerts: result.rows.map(presentAlert),
            changed: result.changed,
            not_found: result.notFound,
          },
        };
      },
    );
  }

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

  defineRoute(
    app,
    {
      method: "patch",
      path: "/api/v1/alerts/{id}/clear",
      permission: "alerts:write",
      tag: TAG,
      summary: "Clear alert",
      description:
        "Resolves a firing alert by hand (cleared_at, an edge.alert.resolved event with cleared: true). If the condition still holds, the node's session starts a new alert after its next rules refresh.",
      params: idParam,
      success: { status: 200, description: "The alert", data: AlertSchema },
      errors: [404, 503],
    },
    async (c, { params }) => ({ data: presentAlert(await clearAlert(c.get("db"), params.id)) }),
  );

  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/alerts/{id}/notes",
      permission: "alerts:read",
      tag: TAG,
      summary: "List an alert's notes",
      params: idParam,
      success: { status: 200, description: "Notes, oldest first", data: v.array(AlertNoteSchema) },
      errors: [404, 503],
    },
    async (c, { params }) => ({
      data: (await alertNotesOf(c.get("db"), params.id)).map(presentAlertNote),
    }),
  );

  defineRoute(
    app,
    {
      method: "post",
      path: "/api/v1/alerts/{id}/notes",
      permission: "alerts:write",
      tag: TAG,
      summary: "Add a note to an alert",
      params: idParam,
      body: AlertNoteCreateRequest,
      success: { status: 201, description: "The note", data: AlertNoteSchema },
      errors: [404, 422, 503],
    },
    async (c, { params, body }) => ({
      data: presentAlertNote(await addAlertNote(c.get("db"), params.id, principalOf(c).name, body.body)),
    }),
  );
}
