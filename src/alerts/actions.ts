import { and, asc, eq, inArray, isNull, lte, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { alertNotes, alerts } from "../db/schema";
import { ApiError } from "../errors";
import { recordEventWhere } from "../events/outbox";
import { getAlert } from "./store";

export type AlertRow = typeof alerts.$inferSelect;
export type AlertNoteRow = typeof alertNotes.$inferSelect;

const ids = (list: readonly string[]) => sql`(SELECT value FROM json_each(${JSON.stringify(list)}))`;

// The event payload of an alert row, built by SQL so the event is written only for rows that change.
const payload = (
  extra = sql``,
) => sql`json_object('alert_id', a.id, 'rule_id', a.rule_id, 'node_id', a.node_id,
  'metric', a.metric, 'level', a.level, 'value', a.value, 'threshold', a.threshold${extra})`;

async function byIds(db: Database, list: readonly string[]) {
  const rows = await db
    .select()
    .from(alerts)
    .where(inArray(alerts.id, [...list]));
  const found = new Map(rows.map((r) => [r.id, r]));
  return {
    rows: list.flatMap((id) => found.get(id) ?? []),
    notFound: list.filter((id) => !found.has(id)),
  };
}

/**
 * Acknowledges alerts not yet acknowledged, each with its `edge.alert.acknowledged` event, in one
 * batch (acknowledging stops repeat notifications). Already acknowledged ones keep their time.
 */
export async function acknowledgeAlerts(db: Database, list: readonly string[]) {
  const now = Date.now();
  const [, changed] = await db.batch([
    recordEventWhere(
      db,
      "edge.alert.acknowledged",
      payload(),
      sql`FROM ${alerts} a WHERE a.id IN ${ids(list)} AND a.acknowledged_at IS NULL`,
      now,
    ),
    db
      .update(alerts)
      .set({ acknowledgedAt: now, updatedAt: now })
      .where(and(inArray(alerts.id, [...list]), isNull(alerts.acknowledgedAt)))
      .returning({ id: alerts.id }),
  ]);
  return { changed: changed.length, ...(await byIds(db, list)) };
}

/**
 * Clears firing alerts: resolved by hand now (`cleared_at`), with an `edge.alert.resolved` event
 * marked `cleared`. The node's session forgets a cleared alert with its next rules refresh, so a
 * condition that still holds starts a new alert. Resolved alerts are left as they are.
 */
export async function clearAlerts(db: Database, list: readonly string[]) {
  const now = Date.now();
  const [, changed] = await db.batch([
    recordEventWhere(
      db,
      "edge.alert.resolved",
      payload(sql`, 'cleared', json('true')`),
      sql`FROM ${alerts} a WHERE a.id IN ${ids(list)} AND a.status = 'firing'`,
      now,
    ),
    db
      .update(alerts)
      .set({ status: "resolved", resolvedAt: now, clearedAt: now, updatedAt: now })
      .where(and(inArray(alerts.id, [...list]), eq(alerts.status, "firing")))
      .returning({ id: alerts.id }),
  ]);
  return { changed: changed.length, ...(await byIds(db, list)) };
}

/** Clears one alert (a 404 when it does not exist). */
export async function clearAlert(db: Database, id: string): Promise<AlertRow> {
  const { rows } = await clearAlerts(db, [id]);
  const [row] = rows;
  if (!row) throw new ApiError("not_found", "Alert not found");
  return row;
}

/** Deletes resolved alerts resolved at or before `resolvedBefore` (firing ones never), with their notes. */
export async function deleteResolvedAlerts(db: Database, resolvedBefore: number): Promise<number> {
  const where = and(eq(alerts.status, "resolved"), lte(alerts.resolvedAt, resolvedBefore));
  const [, deleted] = await db.batch([
    db
      .delete(alertNotes)
      .where(inArray(alertNotes.alertId, db.select({ id: alerts.id }).from(alerts).where(where))),
    db.delete(alerts).where(where).returning({ id: alerts.id }),
  ]);
  return deleted.length;
}

/** Adds a note to an alert (a 404 when it does not exist). */
export async function addAlertNote(
  db: Database,
  alertId: string,
  author: string,
  body: string,
): Promise<AlertNoteRow> {
  await getAlert(db, alertId);
  const row: AlertNoteRow = { id: crypto.randomUUID(), alertId, body, author, insertedAt: Date.now() };
  await db.insert(alertNotes).values(row);
  return row;
}

/** An alert's notes, oldest first (a 404 when the alert does not exist). */
export async function alertNotesOf(db: Database, alertId: string): Promise<AlertNoteRow[]> {
  await getAlert(db, alertId);
  return db
    .select()
    .from(alertNotes)
    .where(eq(alertNotes.alertId, alertId))
    .orderBy(asc(alertNotes.insertedAt), asc(alertNotes.id))
    .limit(1000);
}
