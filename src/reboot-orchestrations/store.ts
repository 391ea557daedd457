import { and, count, eq, sql } from "drizzle-orm";
import * as v from "valibot";
import type { Database } from "../db/client";
import { isUniqueViolation } from "../db/errors";
import { nodeInventory, rebootOrchestrations } from "../db/schema";
import { ApiError } from "../errors";
import { recordEventWhere } from "../events/outbox";
import type { ListQuery } from "../list-query/engine";
import { listPage, type Page } from "../list-query/page";
import { type Child, ChildrenData } from "../protocol/inventory-sections";
import type { RebootOrchestrationStatus, RestartChild, SnapshotChild } from "./schema";

export type RebootOrchestrationRow = typeof rebootOrchestrations.$inferSelect;
export type NewRebootOrchestration = typeof rebootOrchestrations.$inferInsert;

/** A node's children as its agent last reported them (its `children` inventory section). */
export interface ReportedChildren {
  children: Child[];
  engines: string[];
  collectedAt: number | null;
}

/** The node's stored `children` section; an empty list when it has not reported one (or could not). */
export async function reportedChildren(db: Database, nodeId: string): Promise<ReportedChildren> {
  const [row] = await db
    .select({
      status: nodeInventory.status,
      data: nodeInventory.data,
      collectedAt: nodeInventory.collectedAt,
    })
    .from(nodeInventory)
    .where(and(eq(nodeInventory.nodeId, nodeId), eq(nodeInventory.section, "children")))
    .limit(1);
  if (row?.status !== "ok") return { children: [], engines: [], collectedAt: row?.collectedAt ?? null };
  const parsed = v.safeParse(ChildrenData, JSON.parse(row.data));
  if (!parsed.success) return { children: [], engines: [], collectedAt: row.collectedAt };
  return { children: parsed.output.children, engines: parsed.output.engines, collectedAt: row.collectedAt };
}

/** Loads an orchestration, or throws 404. */
export async function getRebootOrchestration(db: Database, id: string): Promise<RebootOrchestrationRow> {
  const [row] = await db.select().from(rebootOrchestrations).where(eq(rebootOrchestrations.id, id)).limit(1);
  if (!row) throw new ApiError("not_found", "Reboot orchestration not found");
  return row;
}

/** One page of orchestrations. */
export function listRebootOrchestrations(db: Database, q: ListQuery): Promise<Page<RebootOrchestrationRow>> {
  return listPage(
    db,
    q,
    db.select().from(rebootOrchestrations),
    db.select({ total: count() }).from(rebootOrchestrations),
  );
}

/** Records a new orchestration; 409 when the node already has one in flight (a unique index says so). */
export async function insertRebootOrchestration(db: Database, row: NewRebootOrchestration): Promise<void> {
  try {
    await db.insert(rebootOrchestrations).values(row);
  } catch (err) {
    if (isUniqueViolation(err))
      throw new ApiError("conflict", "The node already has a reboot orchestration in progress", {
        node_id: ["already has a reboot orchestration in progress"],
      });
    throw err;
  }
}

/** Ids of orchestrations still to be driven (in flight, or a stop to undo), oldest first. */
export async function activeOrchestrations(
  db: Database,
  limit: number,
): Promise<{ id: string; nodeId: string }[]> {
  return db.all<{ id: string; nodeId: string }>(sql`SELECT id, node_id AS nodeId FROM ${rebootOrchestrations}
     WHERE node_id IS NOT NULL AND (status NOT IN ('completed', 'failed', 'cancelled')
        OR (stop_command_id IS NOT NULL AND reboot_issued_at IS NULL AND restart_completed_at IS NULL))
     ORDER BY initiated_at LIMIT ${limit}`);
}

/** The fields a step changes. */
export type StepChange = Partial<
  Pick<
    NewRebootOrchestration,
    | "status"
    | "shutdownCompletedAt"
    | "rebootIssuedAt"
    | "agentReconnectedAt"
    | "restartCompletedAt"
    | "errorMessage"
    | "stopCommandId"
    | "powerActionId"
    | "startCommandId"
  >
> & { restart?: RestartChild[] };

/**
 * Applies one step's change only if the orchestration is still in `from` (a cancel or another
 * driver may have moved it), with its event when it ends `completed` or `failed`, in one batch.
 * Returns whether it applied.
 */
export async function applyStep(
  db: Database,
  row: RebootOrchestrationRow,
  from: RebootOrchestrationStatus,
  change: StepChange,
  now = Date.now(),
): Promise<boolean> {
  const { restart, ...fields } = change;
  const set = {
    ...fields,
    ...(restart ? { childHostsRestartStatus: JSON.stringify(restart) } : {}),
    updatedAt: now,
  };
  const update = db
    .update(rebootOrchestrations)
    .set(set)
    .where(and(eq(rebootOrchestrations.id, row.id), eq(rebootOrchestrations.status, from)))
    .returning({ id: rebootOrchestrations.id });
  const to = fields.status;
  if (to !== "completed" && to !== "failed") return (await update).length > 0;
  const snapshot = JSON.parse(row.childHostsSnapshot) as SnapshotChild[];
  const failed = (restart ?? []).filter((c) => c.restart_status === "failed").length;
  // Written only when the update above applied (the row's updated_at is this step's).
  const event = recordEventWhere(
    db,
    to === "completed" ? "edge.reboot_orchestration.completed" : "edge.reboot_orchestration.failed",
    sql`json_object('orchestration_id', o.id, 'node_id', o.node_id, 'status', o.status,
          'child_count', ${snapshot.length}, 'failed_children', ${failed}, 'error_message', o.error_message)`,
    sql`FROM ${rebootOrchestrations} o WHERE o.id = ${row.id} AND o.status = ${to} AND o.updated_at = ${now}`,
    now,
  );
  const [applied] = await db.batch([update, event]);
  return applied.length > 0;
}

/**
 * Cancels an orchestration before its reboot is issued (`pending` or `shutting_down`); 409 after.
 * Children already stopped are started again by the driver.
 */
export async function cancelRebootOrchestration(db: Database, id: string, now = Date.now()) {
  const row = await getRebootOrchestration(db, id);
  const done = await db
    .update(rebootOrchestrations)
    .set({ status: "cancelled", errorMessage: "cancelled by request", updatedAt: now })
    .where(
      and(
        eq(rebootOrchestrations.id, id),
        sql`${rebootOrchestrations.status} IN ('pending', 'shutting_down')`,
        sql`${rebootOrchestrations.rebootIssuedAt} IS NULL`,
      ),
    )
    .returning({ id: rebootOrchestrations.id });
  if (done.length === 0)
    throw new ApiError(
      "conflict",
      `Reboot orchestration is ${row.status}; it can be cancelled only before the reboot is issued`,
    );
  return getRebootOrchestration(db, id);
}
