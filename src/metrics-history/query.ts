import type { TierRow } from "./buckets";
import type { TierName } from "./tiers";

/** A parsed history request as the node's session answers it (instants in epoch ms, `[from, to)`). */
export interface HistoryQuery {
  from: number;
  to: number;
  resolution: TierName | "auto";
  maxPoints: number;
}

/** The session's answer: the tier used, the bucket width after any merging (0 = raw), the rows. */
export interface HistoryRows {
  resolution: TierName;
  stepMs: number;
  rows: TierRow[];
}
