import type * as v from "valibot";
import { type Env, loadConfig } from "../../src/config";
import type { Database } from "../../src/db/client";
import { ApiError } from "../../src/errors";
import type { InventoryRefreshRequestCreate } from "../../src/inventory-refresh-requests/schema";
import {
  claimQueuedTargets,
  createRefreshRequest,
  markUnanswerable,
  type QueuedRequest,
  type RefreshRequestRow,
  requestsWithQueuedTargets,
  touchRefreshRequest,
} from "../../src/inventory-refresh-requests/store";
import { storedList } from "../../src/nodes/metadata";
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
 * Asks up to `limit` queued targets of one request: claims them (→ `requested`), asks each node's
 * session (a bounded number at a time) and marks the ones without an agent `offline` or
 * `unsupported`. Returns how many were claimed.
 */
async function askBatch(env: Env, db: Database, request: QueuedRequest, limit: number): Promise<number> {
  const nodeIds = await claimQueuedTargets(db, request.id, limit);
  if (nodeIds.length === 0) return 0;
  const ask = {
    requestId: request.id,
    sections: storedList<InventorySection>(request.sections),
    refreshCache: request.refreshCache,
  };
  const unanswerable = { offline: [] as string[], unsupported: [] as string[] };
  let next = 0;
  const worker = async () => {
    while (next < nodeIds.length) {
      const nodeId = nodeIds[next++];
      const outcome = await askNode(env, nodeId, ask);
      if (outcome !== "sent") unanswerable[outcome].push(nodeId);
    }
  };
  await Promise.all(Array.from({ length: Math.min(ASK_CONCURRENCY, nodeIds.length) }, worker));
  await markUnanswerable(db, request.id, "offline", unanswerable.offline);
  await markUnanswerable(db, request.id, "unsupported", unanswerable.unsupported);
  await touchRefreshRequest(db, request.id);
  return nodeIds.length;
}

/**
 * A fleet refresh: resolves the targeting and records the request with one `queued` target per
 * node (nodes long unreachable are `offline` at once), then asks the first
 * `INVENTORY_REFRESH_NODES_PER_TICK` nodes; the cron asks the rest, a batch a minute
 * (`advanceFleetRefreshes`). Each target turns `answered` when its agent reports (NodeSession,
 * src/inventory/report.ts).
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
  await askBatch(env, db, row, loadConfig(env).inventoryRefreshNodesPerTick);
  return row;
}

/**
 * One cron step of every fleet refresh with nodes still to ask: at most
 * `INVENTORY_REFRESH_NODES_PER_TICK` nodes in all (one subrequest each), oldest request first, so
 * a 10,000-node refresh never needs more of one invocation than its bound.
 */
export async function advanceFleetRefreshes(
  env: Env,
  db: Database,
  limit = loadConfig(env).inventoryRefreshNodesPerTick,
): Promise<{ asked: number; requests: number }> {
  let left = limit;
  let requests = 0;
  for (const request of await requestsWithQueuedTargets(db, 50)) {
    if (left <= 0) break;
    left -= await askBatch(env, db, request, left);
    requests++;
  }
  return { asked: limit - left, requests };
}
