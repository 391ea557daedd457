import { count, eq } from "drizzle-orm";
import type { Database } from "../db/client";
import { alertRules } from "../db/schema";
import { ApiError } from "../errors";
import type { ListQuery } from "../list-query/engine";
import { listPage, type Page } from "../list-query/page";
import { isBuiltInRule } from "./config";
import {
  type AlertRuleCreateInput,
  type AlertRuleUpdateInput,
  ORDER_MESSAGE,
  thresholdsOrdered,
} from "./schema";

export type AlertRuleRow = typeof alertRules.$inferSelect;

/** The alert rule with this id, or a 404. */
export async function getAlertRule(db: Database, id: string): Promise<AlertRuleRow> {
  const [row] = await db.select().from(alertRules).where(eq(alertRules.id, id)).limit(1);
  if (!row) throw new ApiError("not_found", "Alert rule not found");
  return row;
}

/** Creates an alert rule (the request schema already checked its thresholds). */
export async function createAlertRule(db: Database, input: AlertRuleCreateInput): Promise<AlertRuleRow> {
  const now = Date.now();
  const row: AlertRuleRow = {
    id: crypto.randomUUID(),
    name: input.name,
    metric: input.metric,
    operator: input.operator,
    warningThreshold: input.warning_threshold,
    criticalThreshold: input.critical_threshold,
    forSeconds: input.for_seconds,
    targeting: JSON.stringify(input.targeting),
    enabled: input.enabled,
    channelIds: JSON.stringify(input.channel_ids),
    repeatIntervalSeconds: input.repeat_interval_seconds,
    insertedAt: now,
    updatedAt: now,
  };
  await db.insert(alertRules).values(row);
  return row;
}

/**
 * Applies a partial update; 422 on `critical_threshold` when the merged thresholds are not
 * ordered by severity, 404 when the rule is gone.
 */
export async function updateAlertRule(
  db: Database,
  id: string,
  patch: AlertRuleUpdateInput,
): Promise<AlertRuleRow> {
  const current = await getAlertRule(db, id);
  const merged = {
    operator: patch.operator ?? current.operator,
    warning_threshold: patch.warning_threshold ?? current.warningThreshold,
    critical_threshold:
      patch.critical_threshold !== undefined ? patch.critical_threshold : current.criticalThreshold,
  };
  if (!thresholdsOrdered(merged))
    throw new ApiError("validation_failed", "Validation failed", { critical_threshold: [ORDER_MESSAGE] });
  const [row] = await db
    .update(alertRules)
    .set({
      name: patch.name,
      metric: patch.metric,
      operator: merged.operator,
      warningThreshold: merged.warning_threshold,
      criticalThreshold: merged.critical_threshold,
      forSeconds: patch.for_seconds,
      targeting: patch.targeting ? JSON.stringify(patch.targeting) : undefined,
      enabled: patch.enabled,
      channelIds: patch.channel_ids ? JSON.stringify(patch.channel_ids) : undefined,
      repeatIntervalSeconds: patch.repeat_interval_seconds,
      updatedAt: Math.max(Date.now(), current.updatedAt + 1),
    })
    .where(eq(alertRules.id, id))
    .returning();
  if (!row) throw new ApiError("not_found", "Alert rule not found");
  return row;
}

/** Deletes an alert rule, or a 404. */
export async function deleteAlertRule(db: Database, id: string): Promise<void> {
  if (isBuiltInRule(id))
    throw new ApiError(
      "conflict",
      "A built-in rule (GET /api/v1/alerts/config) can be disabled, not deleted",
    );
  const deleted = await db.delete(alertRules).where(eq(alertRules.id, id)).returning({ id: alertRules.id });
  if (deleted.length === 0) throw new ApiError("not_found", "Alert rule not found");
}

/** One page of alert rules by `alertRuleListSpec`. */
export function listAlertRules(db: Database, q: ListQuery): Promise<Page<AlertRuleRow>> {
  return listPage(db, q, db.select().from(alertRules), db.select({ total: count() }).from(alertRules));
}

/** The enabled rules, for the node sessions' rule caches. */
export function enabledAlertRules(db: Database): Promise<AlertRuleRow[]> {
  return db.select().from(alertRules).where(eq(alertRules.enabled, true));
}
