import { sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { type selfUpdateRequests, selfUpdateTargets as sut } from "../db/schema";
import { isoSeconds } from "../time";
import type { SelfUpdateRequestResponseData } from "./schema";

type Stored = SelfUpdateRequestResponseData;
type Row = typeof selfUpdateRequests.$inferSelect;
type Counts = Record<string, Record<string, number>>;

/**
 * A request row as the contract's `SelfUpdateRequestResponse`, plus the pinned `release` and, for
 * a rollout, its state with `counts` (its targets by status).
 * The JSON columns are written only by the self-update service from validated input.
 */
export function presentSelfUpdateRequest(row: Row, counts: Record<string, number> = {}): Stored {
  return {
    id: row.id,
    inserted_at: isoSeconds(row.insertedAt),
    release: row.release ? (JSON.parse(row.release) as Stored["release"]) : null,
    status: row.status,
    summary: row.summary ? (JSON.parse(row.summary) as Stored["summary"]) : null,
    targeting: JSON.parse(row.targeting) as Stored["targeting"],
    ...(row.maxConcurrency === null
      ? {}
      : {
          rollout: {
            max_concurrency: row.maxConcurrency,
            max_errors: row.maxErrors,
            concurrency_limit: row.concurrencyLimit,
            error_limit: row.errorLimit,
            order: row.rolloutOrder === "random" ? "random" : "oldest",
            status: (row.rolloutStatus as "running" | "completed" | "stopped" | null) ?? null,
            reason: row.rolloutReason,
            nodes: counts as NonNullable<Stored["rollout"]>["nodes"],
          },
        }),
    updated_at: isoSeconds(row.updatedAt),
  };
}

/** Requests with their rollouts' tallies, read in one query for the whole page. */
export async function presentSelfUpdateRequests(db: Database, rows: Row[]): Promise<Stored[]> {
  const ids = rows.filter((r) => r.maxConcurrency !== null).map((r) => r.id);
  const counts: Counts = {};
  if (ids.length > 0) {
    const tallies = await db.all<{ request_id: string; status: string; n: number }>(
      sql`SELECT request_id, status, count(*) AS n FROM ${sut}
          WHERE request_id IN (SELECT value FROM json_each(${JSON.stringify(ids)})) GROUP BY request_id, status`,
    );
    for (const t of tallies) counts[t.request_id] = { ...counts[t.request_id], [t.status]: t.n };
  }
  return rows.map((r) => presentSelfUpdateRequest(r, counts[r.id]));
}
