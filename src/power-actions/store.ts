import { count, eq, getTableColumns, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { commandExecutions as ce, powerActions } from "../db/schema";
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

/** Marks a power action cancelled, only once and only before it is due; returns whether it did. */
export async function markPowerActionCancelled(db: Database, id: string, now = Date.now()): Promise<boolean> {
  const result = await db.run(
    sql`UPDATE ${powerActions} SET cancelled_at = ${now} WHERE id = ${id} AND cancelled_at IS NULL AND scheduled_at > ${now}`,
  );
  return result.rowsAffected > 0;
}
