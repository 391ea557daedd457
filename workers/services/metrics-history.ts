import type * as v from "valibot";
import type { Env } from "../../src/config";
import type { Database } from "../../src/db/client";
import { presentHistory } from "../../src/metrics-history/present";
import type { HistoryQueryParams } from "../../src/metrics-history/schema";
import { historyWindow } from "../../src/metrics-history/window";
import { assertNodeExists } from "../../src/nodes/store";
import { nodeSession } from "./node-sessions";

/** The history query as the routes receive it, validated. */
type HistoryQuery = {
  [K in keyof typeof HistoryQueryParams]: v.InferOutput<(typeof HistoryQueryParams)[K]["schema"]>;
};

/**
 * A node's metrics history for a validated query, as the history and export routes answer it. The
 * node's existence (404) and its session's answer are asked together: one round trip instead of two
 * in a row. A session of an unknown node answers without creating storage.
 */
export async function readNodeHistory(env: Env, db: Database, nodeId: string, query: HistoryQuery) {
  const window = historyWindow(query, Date.now());
  const [, rows] = await Promise.all([
    assertNodeExists(db, nodeId),
    nodeSession(env, nodeId).metricsHistory({
      ...window,
      resolution: query.resolution,
      maxPoints: query.max_points,
      series: query.metrics,
    }),
  ]);
  return presentHistory(nodeId, window, query.metrics, rows);
}
