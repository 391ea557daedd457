import type { Database } from "../../src/db/client";
import { ApiError } from "../../src/errors";
import type { MetricsSample } from "../../src/nodes/metrics-sample";
import { getNode, type NodeRow } from "../../src/nodes/store";
import type { Env } from "../env";
import { nodeSession } from "./node-sessions";

/**
 * A node (404 when unknown) and its latest heartbeat sample, which only its session holds; 503 when
 * the node has not reported metrics yet.
 */
export async function latestSample(
  env: Env,
  db: Database,
  nodeId: string,
): Promise<{ node: NodeRow; sample: MetricsSample }> {
  const node = await getNode(db, nodeId);
  const { latest } = await nodeSession(env, nodeId).metrics();
  if (!latest) throw new ApiError("service_unavailable", "This node has not reported metrics yet");
  return { node, sample: latest };
}
