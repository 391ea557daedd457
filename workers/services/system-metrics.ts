import { metricsStreamRequest } from "../../durable-objects/node-session/requests";
import type { Env } from "../../src/config";
import type { Database } from "../../src/db/client";
import { ApiError } from "../../src/errors";
import { presentSystemMetrics } from "../../src/node-metrics/system-present";
import type { SystemMetricsResponse } from "../../src/node-metrics/system-schema";
import { getNode } from "../../src/nodes/store";
import { isoOrNull } from "../../src/time";
import { nodeSession } from "./node-sessions";

/** A node's latest full snapshot from its session; 404 for an unknown node, 503 before any heartbeat. */
export async function systemSnapshot(env: Env, db: Database, nodeId: string): Promise<SystemMetricsResponse> {
  const node = await getNode(db, nodeId);
  const snapshot = await nodeSession(env, nodeId).systemMetrics();
  if (!snapshot) throw new ApiError("service_unavailable", "This node has not reported metrics yet");
  return presentSystemMetrics(node, snapshot);
}

/**
 * The node's live metrics as Server-Sent Events, from its session. 503 when its agent is not
 * connected (with the node's status and when it was last seen) or too many streams are open.
 */
export async function metricsStream(
  env: Env,
  db: Database,
  nodeId: string,
  interval: number,
): Promise<Response> {
  const node = await getNode(db, nodeId);
  const res = await nodeSession(env, nodeId).fetch(metricsStreamRequest(interval, node.clusterName));
  if (res.status !== 503) return res;
  const { reason } = (await res.json()) as { reason: string };
  if (reason === "offline")
    throw new ApiError("service_unavailable", "The node's agent is not connected", {
      node_status: [node.status],
      last_seen_at: [isoOrNull(node.lastSeenAt) ?? "never"],
    });
  throw new ApiError("service_unavailable", "Too many live streams for this node; retry later");
}
