import { isoSeconds } from "../time";
import type { NodeTombstoneResponse } from "./schema";
import type { NodeTombstoneRow } from "./store";

/** Renders a tombstone row. */
export function presentTombstone(row: NodeTombstoneRow): NodeTombstoneResponse {
  return {
    node_id: row.nodeId,
    cluster_name: row.clusterName,
    hostname: row.hostname,
    inserted_at: isoSeconds(row.insertedAt),
  };
}
