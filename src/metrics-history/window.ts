import { ApiError } from "../errors";
import { RANGES } from "./schema";

/**
 * The `[from, to)` window of a history request: `to` defaults to now, `from` to `to` minus
 * `range` (default 24h). Throws a 400 naming the parameter for `from` with `range`, or `from ≥ to`.
 */
export function historyWindow(
  q: { from?: number; to?: number; range?: keyof typeof RANGES },
  now: number,
): { from: number; to: number } {
  if (q.from !== undefined && q.range !== undefined)
    throw new ApiError("bad_request", "Invalid request parameters", {
      range: ["give either range or from, not both"],
    });
  const to = q.to ?? now;
  const from = q.from ?? to - RANGES[q.range ?? "24h"];
  if (from >= to)
    throw new ApiError("bad_request", "Invalid request parameters", { from: ["must be before to"] });
  return { from, to };
}
