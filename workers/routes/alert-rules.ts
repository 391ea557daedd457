import type { Context, Hono } from "hono";
import {
  AlertsConfigRequest,
  AlertsConfigSchema,
  readAlertsConfig,
  writeAlertsConfig,
} from "../../src/alert-rules/config";
import { alertRuleListSpec } from "../../src/alert-rules/list";
import { presentAlertRule } from "../../src/alert-rules/present";
import {
  AlertRuleCreateRequest,
  AlertRuleSchema,
  AlertRuleUpdateRequest,
} from "../../src/alert-rules/schema";
import {
  createAlertRule,
  deleteAlertRule,
  getAlertRule,
  listAlertRules,
  updateAlertRule,
} from "../../src/alert-rules/store";
import { UuidParam } from "../../src/schemas/common";
import type { AppEnv } from "../middleware/request-context";
import { defineRoute } from "../openapi/define-route";
import { listRoute } from "../openapi/list-route";
import { pushAlertRulesChange } from "../services/alert-rules-push";

/** The changed rule's sessions drop their cached rules, after the response (`pushAlertRulesChange`). */
function toldSessions(c: Context<AppEnv>, targetings: string[]): void {
  c.executionCtx.waitUntil(pushAlertRulesChange(c.env, c.get("db"), targetings));
}

const TAG = "Alerts.Rules";
const idParam = { id: { schema: UuidParam, description: "Alert rule ID" } };

/**
 * Registers alert rule CRUD (each node's session evaluates the enabled rules on its heartbeats) and
 * seed 002's `/alerts/config` view of the built-in rules, before the alert routes take `/alerts/{id}`.
 */
export function registerAlertRuleRoutes(app: Hono<AppEnv>): void {
  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/alerts/config",
      permission: "alerts:read",
      tag: TAG,
      summary: "Get the built-in alert thresholds",
      description:
        "The warning and critical thresholds (percent) of the built-in cpu, memory and disk rules.",
      success: { status: 200, description: "The built-in thresholds", data: AlertsConfigSchema },
      errors: [503],
    },
    async (c) => ({ data: await readAlertsConfig(c.get("db")) }),
  );

  defineRoute(
    app,
    {
      method: "put",
      path: "/api/v1/alerts/config",
      permission: "alerts:write",
      tag: TAG,
      summary: "Set the built-in alert thresholds",
      description: "Sets the thresholds (and optionally enabled) of the built-in rules named in the body.",
      body: AlertsConfigRequest,
      success: { status: 200, description: "The built-in thresholds", data: AlertsConfigSchema },
      errors: [422, 503],
    },
    async (c, { body }) => {
      const data = await writeAlertsConfig(c.get("db"), body);
      // The built-in rules select every node.
      toldSessions(c, [JSON.stringify({ type: "all" })]);
      return { data };
    },
  );

  defineRoute(
    app,
    {
      method: "post",
      path: "/api/v1/alert_rules",
      permission: "alerts:write",
      clusterScope: { refuse: true },
      tag: TAG,
      summary: "Create alert rule",
      description:
        "A metric crossing warning_threshold (and optionally critical_threshold) for for_seconds on the nodes the targeting selects (default all).",
      body: AlertRuleCreateRequest,
      success: { status: 201, description: "Alert rule created", data: AlertRuleSchema },
      errors: [422, 503],
    },
    async (c, { body }) => {
      const row = await createAlertRule(c.get("db"), body);
      toldSessions(c, [row.targeting]);
      return { data: presentAlertRule(row) };
    },
  );

  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/alert_rules",
      permission: "alerts:read",
      tag: TAG,
      summary: "List alert rules",
      list: alertRuleListSpec,
      success: {
        status: 200,
        description: "Paginated list of alert rules",
        data: AlertRuleSchema,
        paginated: true,
      },
      errors: [503],
    },
    listRoute({ page: listAlertRules, present: (rows) => rows.map(presentAlertRule) }),
  );

  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/alert_rules/{id}",
      permission: "alerts:read",
      tag: TAG,
      summary: "Get alert rule",
      params: idParam,
      success: { status: 200, description: "The alert rule", data: AlertRuleSchema },
      errors: [404, 503],
    },
    async (c, { params }) => ({ data: presentAlertRule(await getAlertRule(c.get("db"), params.id)) }),
  );

  defineRoute(
    app,
    {
      method: "patch",
      path: "/api/v1/alert_rules/{id}",
      permission: "alerts:write",
      clusterScope: { refuse: true },
      tag: TAG,
      summary: "Update alert rule",
      params: idParam,
      body: AlertRuleUpdateRequest,
      success: { status: 200, description: "The updated alert rule", data: AlertRuleSchema },
      errors: [404, 422, 503],
    },
    async (c, { params, body }) => {
      const before = await getAlertRule(c.get("db"), params.id);
      const row = await updateAlertRule(c.get("db"), params.id, body);
      toldSessions(c, [before.targeting, row.targeting]);
      return { data: presentAlertRule(row) };
    },
  );

  defineRoute(
    app,
    {
      method: "delete",
      path: "/api/v1/alert_rules/{id}",
      permission: "alerts:write",
      clusterScope: { refuse: true },
      tag: TAG,
      summary: "Delete alert rule",
      params: idParam,
      success: { status: 204, description: "Deleted", data: null },
      errors: [404, 409, 503],
    },
    async (c, { params }) => {
      const before = await getAlertRule(c.get("db"), params.id);
      await deleteAlertRule(c.get("db"), params.id);
      toldSessions(c, [before.targeting]);
    },
  );
}
