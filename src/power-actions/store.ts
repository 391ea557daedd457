import { count, eq, getTableColumns, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { commandExecutions as ce, nodes, powerActions } from "../db/schema";
import { ApiError } from "../errors";
import type { ListQuery } from "../list-query/engine";
import { listPage, type Page } from "../list-query/page";
import { type PowerActionStatus, powerActionStatusSql } from "./status";

export type PowerActionRow = typeof powerActions.$inferSelect & { status: PowerActionStatus };
export type NewPowerAction = typeof powerActions.$inferInsert;

function selectRows(db: Database) {
  return db
    .select({ ...getTableColumns(powerActions), status: powerActionStatusSql })
    .from(powerActions)
    .leftJoin(ce, eq(ce.id, powerActions.executionId));
}

/** Records a power action whose command was just created. */
export async function insertPowerAction(db: Database, row: NewPowerAction): Promise<void> {
  await db.insert(powerActions).values(row);
}

/** Loads a power action with its status, or throws 404. */
export async function getPowerAction(db: Database, id: string): Promise<PowerActionRow> {
  const [row] = await selectRows(db).where(eq(powerActions.id, id)).limit(1);
  if (!row) throw new ApiError("not_found", "Power action not found");
  return row;
}

/** One page of power actions. */
export function listPowerActions(db: Database, q: ListQuery): Promise<Page<PowerActionRow>> {
  return listPage(
    db,
    q,
    selectRows(db),
    db.select({ total: count() }).from(powerActions).leftJoin(ce, eq(ce.id, powerActions.executionId)),
  );
}

/**
 * Marks a power action cancelled, only once and only before it is due (or while it still waits for
 * its turn in a rollout); returns whether it did.
 */
export async function markPowerActionCancelled(db: Database, id: string, now = Date.now()): Promise<boolean> {
  const result = await db.run(
    sql`UPDATE ${powerActions} SET cancelled_at = ${now} WHERE id = ${id} AND cancelled_at IS NULL
      AND (scheduled_at > ${now} OR EXISTS (SELECT 1 FROM ${ce} x WHERE x.id = ${powerActions.executionId} AND x.status = 'pending' AND x.held = 1))`,
  );
  return result.rowsAffected > 0;
}

/** How early a hello may come before a reboot's scheduled time and still confirm it (clock skew). */
const CONFIRM_SLACK_MS = 60_000;

/**
 * The statement that confirms a node's latest reboot when its agent says hello with a boot id other
 * than the stored one (run before the hello stores the new one): the reboot must have been
 * scheduled on the machine (its execution completed with 0), be due, and be neither cancelled nor
 * confirmed. Downtime runs from the node's last sign of life to this hello. Returns the confirmed
 * action's command (a fleet rollout's slot is free now).
 */
export function confirmRebootStatement(
  db: Database,
  nodeId: string,
  bootId: string | null | undefined,
  now: number,
) {
  return db.all<{ command_id: string }>(sql`UPDATE ${powerActions} AS p SET confirmed_at = ${now},
      previous_boot_id = (SELECT boot_id FROM ${nodes} WHERE id = ${nodeId}),
      downtime_seconds = (SELECT max(0, (${now} - coalesce(last_seen_at, ${now})) / 1000) FROM ${nodes} WHERE id = ${nodeId})
    WHERE p.id = (
      SELECT q.id FROM ${powerActions} q JOIN ${ce} e ON e.id = q.execution_id
       WHERE q.node_id = ${nodeId} AND q.action = 'reboot' AND q.confirmed_at IS NULL AND q.cancelled_at IS NULL
         AND q.scheduled_at <= ${now + CONFIRM_SLACK_MS} AND e.status = 'completed' AND e.exit_code = 0
       ORDER BY q.scheduled_at DESC LIMIT 1)
      AND ${bootId ?? null} IS NOT NULL
      AND (SELECT boot_id FROM ${nodes} WHERE id = ${nodeId}) IS NOT ${bootId ?? null}
    RETURNING command_id`);
}

/**
 * Records one power action per execution of a fleet power action's command (one statement), all
 * with the same schedule and unit; returns their ids, oldest node first.
 */
export async function insertPowerActionsForCommand(
  db: Database,
  commandId: string,
  fields: Pick<
    NewPowerAction,
    "action" | "delaySeconds" | "force" | "message" | "unit" | "scheduledAt" | "insertedAt"
  >,
): Promise<string[]> {
  const rows = await db.all<{ id: string }>(sql`INSERT INTO ${powerActions}
      (id, node_id, command_id, execution_id, action, delay_seconds, force, message, unit, scheduled_at, inserted_at)
    SELECT lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))), 2) || '-'
           || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6))),
           e.node_id, e.command_id, e.id, ${fields.action}, ${fields.delaySeconds}, ${fields.force ? 1 : 0},
           ${fields.message ?? null}, ${fields.unit}, ${fields.scheduledAt}, ${fields.insertedAt}
      FROM ${ce} e WHERE e.command_id = ${commandId} ORDER BY e.inserted_at, e.id
    RETURNING id`);
  return rows.map((r) => r.id);
}
