import type { selfUpdateRequests } from "../db/schema";
import { isoSeconds } from "../time";
import type { SelfUpdateRequestResponseData } from "./schema";

type Stored = SelfUpdateRequestResponseData;

/**
 * A request row as the contract's `SelfUpdateRequestResponse`, plus the pinned `release`.
 * The JSON columns are written only by the self-update service from validated input.
 */
export function presentSelfUpdateRequest(row: typeof selfUpdateRequests.$inferSelect): Stored {
  return {
    id: row.id,
    inserted_at: isoSeconds(row.insertedAt),
    release: row.release ? (JSON.parse(row.release) as Stored["release"]) : null,
    status: row.status,
    summary: row.summary ? (JSON.parse(row.summary) as Stored["summary"]) : null,
    targeting: JSON.parse(row.targeting) as Stored["targeting"],
    updated_at: isoSeconds(row.updatedAt),
  };
}
