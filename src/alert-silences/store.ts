import { and, count, eq, gt, isNull, lte, or } from "drizzle-orm";
import type { Database } from "../db/client";
import { alertSilences } from "../db/schema";
import { ApiError } from "../errors";
import type { ListQuery } from "../list-query/engine";
import { listPage, type Page } from "../list-query/page";
import { targetingSelectsNode } from "../targeting/match";
import type { Targeting } from "../targeting/schema";
import type { AlertSilenceCreateInput } from "./schema";

export type AlertSilenceRow = typeof alertSilences.$inferSelect;

/** The silence with this id, or a 404. */
export async function getAlertSilence(db: Database, id: string): Promise<AlertSilenceRow> {
  const [row] = await db.select().from(alertSilences).where(eq(alertSilences.id, id)).limit(1);
  if (!row) throw new ApiError("not_found", "Alert silence not found");
  return row;
}

/** Creates a silence (the schema checked its window). */
export async function createAlertSilence(
  db: Database,
  input: AlertSilenceCreateInput,
  createdBy: string,
): Promise<AlertSilenceRow> {
  const now = Date.now();
  const row: AlertSilenceRow = {
    id: crypto.randomUUID(),
    targeting: JSON.stringify(input.targeting),
    metric: input.metric,
    startsAt: input.starts_at ?? now,
    endsAt: input.ends_at,
    comment: input.comment,
    createdBy,
    insertedAt: now,
    updatedAt: now,
  };
  await db.insert(alertSilences).values(row);
  return row;
}

/** Deletes a silence, or a 404. */
export async function deleteAlertSilence(db: Database, id: string): Promise<void> {
  const gone = await db
    .delete(alertSilences)
    .where(eq(alertSilences.id, id))
    .returning({ id: alertSilences.id });
  if (gone.length === 0) throw new ApiError("not_found", "Alert silence not found");
}

/** One page of silences by `alertSilenceListSpec`. */
export function listAlertSilences(db: Database, q: ListQuery): Promise<Page<AlertSilenceRow>> {
  return listPage(db, q, db.select().from(alertSilences), db.select({ total: count() }).from(alertSilences));
}

/**
 * Whether an alert of `metric` on this node is silenced at `at`: a silence whose window holds `at`,
 * whose metric is unset or the same, and whose targeting selects the node.
 */
export async function isSilenced(
  db: Database,
  node: { id: string; clusterName: string | null },
  metric: string,
  at: number,
): Promise<boolean> {
  const candidates = await db
    .select()
    .from(alertSilences)
    .where(
      and(
        lte(alertSilences.startsAt, at),
        gt(alertSilences.endsAt, at),
        or(isNull(alertSilences.metric), eq(alertSilences.metric, metric)),
      ),
    );
  for (const s of candidates) {
    if (await targetingSelectsNode(db, JSON.parse(s.targeting) as Targeting, node.id, node.clusterName))
      return true;
  }
  return false;
}
