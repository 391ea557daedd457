import { isoSeconds } from "../time";
import type { Series } from "./buckets";
import type { HistoryRows } from "./query";
import type { MetricsHistoryResponse } from "./schema";

// Three decimals are plenty for percentages and loads, and keep a 5,000-point answer small.
const round = (n: number) => Math.round(n * 1000) / 1000;

/** The session's rows as the documented history, keeping only the series asked for. */
export function presentHistory(
  nodeId: string,
  window: { from: number; to: number },
  metrics: readonly Series[],
  result: HistoryRows,
): MetricsHistoryResponse {
  return {
    node_id: nodeId,
    from: isoSeconds(window.from),
    to: isoSeconds(window.to),
    resolution: result.resolution,
    step_seconds: result.stepMs / 1000,
    points: result.rows.map((row) => {
      const point: MetricsHistoryResponse["points"][number] = { timestamp: isoSeconds(row.start) };
      for (const name of metrics) {
        const b = row.series[name];
        if (b) point[name] = { avg: round(b.avg), min: round(b.min), max: round(b.max) };
      }
      return point;
    }),
  };
}
