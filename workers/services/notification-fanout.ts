import { and, asc, eq, inArray, isNull, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { isSilenced } from "../../src/alert-silences/store";
import type { Database } from "../../src/db/client";
import {
  alertRules,
  alerts,
  clusters,
  events,
  nodes,
  notificationChannels,
  notificationDeliveries,
} from "../../src/db/schema";
import { type NotificationDeliveryRow, newDelivery } from "../../src/notification-channels/deliveries";
import type { NotificationContext } from "../../src/notification-channels/render";

/** Outbox events handled per fan-out round. */
export const NOTIFY_EVENTS = 100;
/** Firing alerts looked at per repeat round. */
const REPEAT_BATCH = 100;
const ROWS_PER_INSERT = 100;

type AlertRow = typeof alerts.$inferSelect;
type Info = {
  alert: AlertRow;
  ruleName: string | null;
  channelIds: string[];
  hostname: string | null;
  clusterName: string | null;
};

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

async function alertInfo(db: Database, ids: string[]): Promise<Map<string, Info>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .select({
      alert: alerts,
      ruleName: alertRules.name,
      channelIds: alertRules.channelIds,
      hostname: nodes.hostname,
      clusterName: clusters.name,
    })
    .from(alerts)
    .leftJoin(alertRules, eq(alertRules.id, alerts.ruleId))
    .leftJoin(nodes, eq(nodes.id, alerts.nodeId))
    .leftJoin(clusters, eq(clusters.id, nodes.clusterId))
    .where(inArray(alerts.id, ids));
  return new Map(
    rows.map((r) => [
      r.alert.id,
      { ...r, channelIds: r.channelIds ? (JSON.parse(r.channelIds) as string[]) : [] },
    ]),
  );
}

function alertContext(
  info: Info,
  base: Omit<NotificationContext, "alert">,
  value?: { value: number; threshold: number; level: string },
): NotificationContext {
  const a = info.alert;
  return {
    ...base,
    alert: {
      id: a.id,
      rule_id: a.ruleId,
      rule_name: info.ruleName,
      node_id: a.nodeId,
      hostname: info.hostname,
      cluster_name: info.clusterName,
      metric: a.metric,
      level: value?.level ?? a.level,
      status: base.reason === "resolved" ? "resolved" : a.status,
      value: value?.value ?? a.value,
      threshold: value?.threshold ?? a.threshold,
      started_at: iso(a.startedAt),
    },
  };
}

function inserts(db: Database, rows: NotificationDeliveryRow[]): BatchItem<"sqlite">[] {
  const out: BatchItem<"sqlite">[] = [];
  for (let i = 0; i < rows.length; i += ROWS_PER_INSERT)
    out.push(
      db
        .insert(notificationDeliveries)
        .values(rows.slice(i, i + ROWS_PER_INSERT))
        .onConflictDoNothing(),
    );
  return out;
}

/**
 * One fan-out round over the outbox (its own `notified_at` marker, apart from the webhooks'): an
 * alert event goes to the enabled channels its rule names unless a silence covers the alert's node
 * and metric (a resolve only when the fire was told), and any event to the channels subscribed to
 * its type. Deliveries, the alerts' `last_notified_at` and the markers are written in one batch.
 */
export async function fanOutNotifications(db: Database, now = Date.now(), limit = NOTIFY_EVENTS) {
  const batch = await db
    .select()
    .from(events)
    .where(isNull(events.notifiedAt))
    .orderBy(asc(events.occurredAt), asc(events.id))
    .limit(limit);
  if (batch.length === 0) return { events: 0, deliveries: 0 };
  const channels = await db
    .select({ id: notificationChannels.id, subscribed: notificationChannels.subscribedEvents })
    .from(notificationChannels)
    .where(eq(notificationChannels.enabled, true));
  const enabled = new Set(channels.map((c) => c.id));
  const parsed = batch.map((e) => ({ ...e, payload: JSON.parse(e.data) as Record<string, unknown> }));
  const alertIds = [
    ...new Set(
      parsed.flatMap((e) =>
        e.type.startsWith("edge.alert.") && typeof e.payload.alert_id === "string"
          ? [e.payload.alert_id]
          : [],
      ),
    ),
  ];
  const infos = await alertInfo(db, alertIds);
  const notified = new Map<string, number>();
  const rows: NotificationDeliveryRow[] = [];
  for (const e of parsed) {
    const reason = e.type.startsWith("edge.alert.") ? e.type.slice("edge.alert.".length) : "event";
    const base = { event_id: e.id, event_type: e.type, reason, occurred_at: iso(e.occurredAt) };
    const targets = new Map<string, NotificationContext>();
    const info = typeof e.payload.alert_id === "string" ? infos.get(e.payload.alert_id) : undefined;
    if (info && reason !== "acknowledged") {
      const told = notified.has(info.alert.id) || info.alert.lastNotifiedAt !== null;
      const wanted = info.channelIds.filter((id) => enabled.has(id));
      const silenced =
        wanted.length > 0 &&
        (await isSilenced(
          db,
          { id: info.alert.nodeId, clusterName: info.clusterName },
          info.alert.metric,
          e.occurredAt,
        ));
      if (wanted.length > 0 && !silenced && (reason !== "resolved" || told)) {
        const ctx = alertContext(info, base, {
          value: Number(e.payload.value ?? info.alert.value),
          threshold: Number(e.payload.threshold ?? info.alert.threshold),
          level: String(e.payload.level ?? info.alert.level),
        });
        for (const id of wanted) targets.set(id, ctx);
        if (reason !== "resolved") notified.set(info.alert.id, now);
      }
    }
    for (const c of channels) {
      if (targets.has(c.id) || !(JSON.parse(c.subscribed) as string[]).includes(e.type)) continue;
      targets.set(c.id, info ? alertContext(info, base) : { ...base, reason: "event", data: e.payload });
    }
    for (const [channelId, ctx] of targets) rows.push(newDelivery(channelId, ctx, now));
  }
  const statements: BatchItem<"sqlite">[] = [...inserts(db, rows)];
  for (const [alertId, at] of notified)
    statements.push(db.update(alerts).set({ lastNotifiedAt: at }).where(eq(alerts.id, alertId)));
  statements.push(
    db
      .update(events)
      .set({ notifiedAt: now })
      .where(
        and(
          inArray(
            events.id,
            parsed.map((e) => e.id),
          ),
          isNull(events.notifiedAt),
        ),
      ),
  );
  const [first, ...rest] = statements;
  // A channel deleted since the select fails the batch (foreign key); the next round retries without it.
  await db.batch([first, ...rest]);
  return { events: batch.length, deliveries: rows.length };
}

/**
 * Repeats: a firing alert nobody acknowledged is told again every `repeat_interval_seconds` of its
 * rule (0 = never), and one that fired while silenced is told once the silence is over. Each claim
 * is conditional on `last_notified_at` being unchanged, so overlapping runs don't double up.
 */
export async function repeatNotifications(db: Database, now = Date.now()) {
  const due = await db.all<{ id: string }>(sql`
    SELECT a.id FROM ${alerts} a JOIN ${alertRules} r ON r.id = a.rule_id
     WHERE a.status = 'firing' AND a.acknowledged_at IS NULL AND r.channel_ids <> '[]'
       AND ((a.last_notified_at IS NOT NULL AND r.repeat_interval_seconds > 0
             AND a.last_notified_at + r.repeat_interval_seconds * 1000 <= ${now})
         OR (a.last_notified_at IS NULL AND NOT EXISTS (
               SELECT 1 FROM ${events} e WHERE e.notified_at IS NULL AND e.type LIKE 'edge.alert.%'
                  AND json_extract(e.data, '$.alert_id') = a.id)))
     ORDER BY a.started_at LIMIT ${REPEAT_BATCH}`);
  if (due.length === 0) return { alerts: 0, deliveries: 0 };
  const infos = await alertInfo(
    db,
    due.map((d) => d.id),
  );
  const channels = await db
    .select({ id: notificationChannels.id })
    .from(notificationChannels)
    .where(eq(notificationChannels.enabled, true));
  const enabled = new Set(channels.map((c) => c.id));
  const statements: BatchItem<"sqlite">[] = [];
  let count = 0;
  let told = 0;
  for (const info of infos.values()) {
    const wanted = info.channelIds.filter((id) => enabled.has(id));
    if (wanted.length === 0) continue;
    if (
      await isSilenced(db, { id: info.alert.nodeId, clusterName: info.clusterName }, info.alert.metric, now)
    )
      continue;
    const first = info.alert.lastNotifiedAt === null;
    const ctx = alertContext(info, {
      event_id: null,
      event_type: "edge.alert.fired",
      reason: first ? "fired" : "repeat",
      occurred_at: iso(now),
    });
    const rows = wanted.map((id) => newDelivery(id, ctx, now));
    const claim =
      info.alert.lastNotifiedAt === null
        ? sql`last_notified_at IS NULL`
        : sql`last_notified_at = ${info.alert.lastNotifiedAt}`;
    // The deliveries are inserted only when this run wins the claim on the alert.
    statements.push(
      db.run(sql`UPDATE ${alerts} SET last_notified_at = ${now} WHERE id = ${info.alert.id} AND ${claim}`),
      ...rows.map((r) =>
        db.run(sql`INSERT INTO ${notificationDeliveries} (id, channel_id, event_id, event_type, alert_id, reason, data, status, attempts,
                     next_attempt_at, inserted_at, updated_at)
                   SELECT ${r.id}, ${r.channelId}, NULL, ${r.eventType}, ${r.alertId}, ${r.reason}, ${r.data}, 'pending', 0, ${now}, ${now}, ${now}
                    WHERE (SELECT last_notified_at FROM ${alerts} WHERE id = ${info.alert.id}) = ${now}`),
      ),
    );
    count += rows.length;
    told++;
  }
  const [first, ...rest] = statements;
  if (first) await db.batch([first, ...rest]);
  return { alerts: told, deliveries: count };
}
