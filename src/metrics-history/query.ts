import type { Series, TierRow } from "./buckets";
import type { TierName } from "./tiers";

/** A parsed history request as the node's session answers it (instants in epoch ms, `[from, to)`). */
export interface HistoryQuery {
  from: number;
  to: number;
  resolution: TierName | "auto";
  maxPoints: number;
  /** The series to answer (the rest are not merged nor sent back); all when absent. */
  series?: readonly Series[];
}

/** The session's answer: the tier used, the bucket width after any merging (0 = raw), the rows. */
export interface HistoryRows {
  resolution: TierName;
  stepMs: number;
  rows: TierRow[];
}
