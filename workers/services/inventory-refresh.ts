import type * as v from "valibot";
import type { Env } from "../../src/config";
import type { Database } from "../../src/db/client";
import { ApiError } from "../../src/errors";
import type { InventoryRefreshRequestCreate } from "../../src/inventory-refresh-requests/schema";
import {
  createRefreshRequest,
  markUnanswerable,
  type RefreshRequestRow,
} from "../../src/inventory-refresh-requests/store";
import { getNode } from "../../src/nodes/store";
import { INVENTORY_CAPABILITY } from "../../src/protocol/inventory-frames";
import type { InventorySection } from "../../src/protocol/inventory-sections";
import { isoOrNull } from "../../src/time";
import { nodeSession } from "./node-sessions";
import { resolveTargeting } from "./targeting";

/** Node sessions asked at once by a fleet refresh. */
const ASK_CONCURRENCY = 25;

/** Asks one node's session to have its agent collect now; `offline` also when the object could not be reached. */
export async function askNode(
  env: Env,
  nodeId: string,
  ask: { requestId?: string; sections: InventorySection[]; refreshCache: boolean },
): Promise<"sent" | "offline" | "unsupported"> {
  try {
    return await (await nodeSession(env, nodeId)).requestInventory(ask);
  } catch {
    return "offline";
  }
}

/**
 * An operator's refresh of one node: 404 without the node, 503 (with its status and last
 * contact) when its agent is not connected, 409 when its agent is too old to collect inventory.
 */
export async function refreshNode(
  env: Env,
  db: Database,
  nodeId: string,
  sections: InventorySection[],
  refreshCache: boolean,
): Promise<void> {
  const node = await getNode(db, nodeId);
  const outcome = await askNode(env, nodeId, { sections, refreshCache });
  if (outcome === "sent") return;
  if (outcome === "unsupported") {
    throw new ApiError("conflict", "The node's agent does not collect inventory; update the agent", {
      capability: [INVENTORY_CAPABILITY],
      agent_version: [node.version ?? "unknown"],
    });
  }
  throw new ApiError("service_unavailable", "The node's agent is not connected", {
    node_status: [node.status],
    last_seen_at: [isoOrNull(node.lastSeenAt) ?? "never"],
  });
}

/**
 * A fleet refresh: resolves the targeting, records the request with one target row per node, asks
 * every node's session (a bounded number at a time) and marks the ones without an agent `offline`.
 * Each target turns `answered` when its agent reports (NodeSession, src/inventory/report.ts).
 */
export async function createFleetRefresh(
  env: Env,
  db: Database,
  input: v.InferOutput<typeof InventoryRefreshRequestCreate>,
): Promise<RefreshRequestRow> {
  const nodeIds = await resolveTargeting(db, input.targeting);
  const sections = input.sections ?? [];
  const refreshCache = input.refresh_cache ?? false;
  const row = await createRefreshRequest(db, { targeting: input.targeting, sections, refreshCache, nodeIds });
  const unanswerable = { offline: [] as string[], unsupported: [] as string[] };
  let next = 0;
  const worker = async () => {
    while (next < nodeIds.length) {
      const nodeId = nodeIds[next++];
      const outcome = await askNode(env, nodeId, { requestId: row.id, sections, refreshCache });
      if (outcome !== "sent") unanswerable[outcome].push(nodeId);
    }
  };
  await Promise.all(Array.from({ length: Math.min(ASK_CONCURRENCY, nodeIds.length) }, worker));
  await markUnanswerable(db, row.id, "offline", unanswerable.offline);
  await markUnanswerable(db, row.id, "unsupported", unanswerable.unsupported);
  return row;
}
