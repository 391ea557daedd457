import { and, count, eq, inArray, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { Database } from "../db/client";
import { alerts, clusters, nodes } from "../db/schema";
import { ApiError } from "../errors";
import { recordEvent, recordEventWhere } from "../events/outbox";
import type { ListQuery } from "../list-query/engine";
import { listPage, type Page } from "../list-query/page";
import type { AlertTransition } from "./evaluate";

/**
 * Writes a node's alert transitions: each one's alert row (insert on fired, update otherwise) and
 * its `edge.alert.*` event, all in one batch, so an alert never exists without its event.
 */
export async function writeTransitions(
  db: Database,
  nodeId: string,
  transitions: readonly AlertTransition[],
): Promise<void> {
  const statements: BatchItem<"sqlite">[] = [];
  for (const t of transitions) {
    const data = {
      alert_id: t.alertId,
      rule_id: t.ruleId,
      node_id: nodeId,
      metric: t.metric,
      level: t.level,
      value: t.value,
      threshold: t.threshold,
    };
    if (t.kind === "fired") {
      statements.push(
        db.insert(alerts).values({
          id: t.alertId,
          ruleId: t.ruleId,
          nodeId,
          metric: t.metric,
          level: t.level,
          status: "firing",
          value: t.value,
          peakValue: t.peak,
          threshold: t.threshold,
          startedAt: t.startedAt,
          updatedAt: t.at,
        }),
        recordEvent(db, "edge.alert.fired", data, t.at),
      );
      continue;
    }
    // An operator may have cleared the alert meanwhile: then neither the row nor an event changes
    // (the event is written first, while its condition still sees the row firing).
    statements.push(
      recordEventWhere(
        db,
        `edge.alert.${t.kind}`,
        sql`json(${JSON.stringify(data)})`,
        sql`FROM ${alerts} WHERE ${alerts.id} = ${t.alertId} AND ${alerts.status} = 'firing'`,
        t.at,
      ),
      db
        .update(alerts)
        .set({
          level: t.level,
          value: t.value,
          peakValue: t.peak,
          threshold: t.threshold,
          updatedAt: t.at,
          ...(t.kind === "resolved" ? { status: "resolved", resolvedAt: t.at } : {}),
        })
        .where(and(eq(alerts.id, t.alertId), eq(alerts.status, "firing"))),
    );
  }
  const [first, ...rest] = statements;
  if (first) await db.batch([first, ...rest]);
}

/** Which of these alerts are still firing in libSQL (an operator may have cleared some). */
export async function firingAlertIds(db: Database, ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .select({ id: alerts.id })
    .from(alerts)
    .where(and(inArray(alerts.id, [...ids]), eq(alerts.status, "firing")));
  return rows.map((r) => r.id);
}

/** The node's cluster name (null once the node is gone), for matching rule targetings. */
export async function nodeClusterName(db: Database, nodeId: string): Promise<string | null> {
  const [row] = await db
    .select({ name: clusters.name })
    .from(nodes)
    .innerJoin(clusters, eq(clusters.id, nodes.clusterId))
    .where(eq(nodes.id, nodeId))
    .limit(1);
  return row?.name ?? null;
}

export type AlertRow = typeof alerts.$inferSelect;

/** The alert with this id, or a 404. */
export async function getAlert(db: Database, id: string): Promise<AlertRow> {
  const [row] = await db.select().from(alerts).where(eq(alerts.id, id)).limit(1);
  if (!row) throw new ApiError("not_found", "Alert not found");
  return row;
}

/** One page of alerts by `alertListSpec`. */
export function listAlerts(db: Database, q: ListQuery): Promise<Page<AlertRow>> {
  return listPage(db, q, db.select().from(alerts), db.select({ total: count() }).from(alerts));
}

/**
 * Acknowledges an alert (with its `edge.alert.acknowledged` event, in one batch) or takes the
 * acknowledgement back. Acknowledging twice keeps the first time and writes no second event.
 */
export async function setAcknowledged(db: Database, id: string, acknowledged: boolean): Promise<AlertRow> {
  const current = await getAlert(db, id);
  if ((current.acknowledgedAt !== null) === acknowledged) return current;
  const now = Date.now();
  const update = db
    .update(alerts)
    .set({ acknowledgedAt: acknowledged ? now : null, updatedAt: now })
    .where(eq(alerts.id, id))
    .returning();
  if (!acknowledged) {
    const [row] = await update;
    if (!row) throw new ApiError("not_found", "Alert not found");
    return row;
  }
  const [rows] = await db.batch([
    update,
    recordEvent(db, "edge.alert.acknowledged", {
      alert_id: current.id,
      rule_id: current.ruleId,
      node_id: current.nodeId,
      metric: current.metric,
      level: current.level,
      value: current.value,
      threshold: current.threshold,
    }),
  ]);
  if (!rows[0]) throw new ApiError("not_found", "Alert not found");
  return rows[0];
}
