import type { Database } from "../db/client";
import { storedList } from "../nodes/metadata";
import type { InventorySection } from "../protocol/inventory-sections";
import { isoSeconds } from "../time";
import type { InventoryRefreshRequestResponse } from "./schema";
import { type RefreshRequestRow, targetCounts } from "./store";

function targeting(json: string): Record<string, unknown> {
  try {
    return JSON.parse(json) as Record<string, unknown>;
  } catch {
    return {};
  }
}

/** Renders requests with their target counts (one query for the whole page). */
export async function presentRefreshRequests(
  db: Database,
  rows: RefreshRequestRow[],
): Promise<InventoryRefreshRequestResponse[]> {
  const counts = await targetCounts(
    db,
    rows.map((r) => r.id),
  );
  return rows.map((row) => {
    const c = counts.get(row.id) ?? { queued: 0, requested: 0, answered: 0, offline: 0, unsupported: 0 };
    const total = c.queued + c.requested + c.answered + c.offline + c.unsupported;
    return {
      id: row.id,
      targeting: targeting(row.targeting),
      sections: storedList<InventorySection>(row.sections),
      refresh_cache: row.refreshCache,
      status: c.queued === 0 && c.requested === 0 ? "completed" : "processing",
      summary: { total, ...c },
      inserted_at: isoSeconds(row.insertedAt),
      updated_at: isoSeconds(row.updatedAt),
    };
  });
}

/** Renders one request. */
export async function presentRefreshRequest(
  db: Database,
  row: RefreshRequestRow,
): Promise<InventoryRefreshRequestResponse> {
  const [one] = await presentRefreshRequests(db, [row]);
  if (!one) throw new Error(`presentRefreshRequests returned nothing for ${row.id}`);
  return one;
}
