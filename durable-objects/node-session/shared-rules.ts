import type { AlertRuleRow } from "../../src/alert-rules/store";
import { enabledAlertRules } from "../../src/alert-rules/store";
import type { Database } from "../../src/db/client";

/**
 * How long the sessions of one isolate share one read of the enabled rules. Every session
 * refreshes its rules once per `RULES_TTL_MS`; read one by one, that was one libSQL round trip per
 * node per minute, and a fleet connected in one wave refreshed in one wave: 110 of 200 nodes'
 * reads landed inside one timed fan-out (issue 23, bench/results/issue-23-load.md). Shared, a
 * fleet's refreshes cost one read per isolate per this long, whatever the number of nodes.
 */
export const SHARED_RULES_MS = 5_000;

/**
 * The last read, as data (never a promise: a promise settled in another object's request context
 * must not be awaited in this one). Module state is per isolate; in production sessions spread over
 * isolates each read their own, which is the behaviour without this cache.
 */
let shared: { at: number; rows: readonly AlertRuleRow[] } | undefined;

/**
 * The enabled rules, read from libSQL unless this isolate read them less than `SHARED_RULES_MS`
 * ago; `fresh` reads them anyway (a session without stored rules: new, or told to forget them).
 */
export async function sharedEnabledRules(
  db: Database,
  now: number,
  fresh = false,
): Promise<readonly AlertRuleRow[]> {
  if (!fresh && shared && now - shared.at >= 0 && now - shared.at < SHARED_RULES_MS) return shared.rows;
  const rows = Object.freeze(await enabledAlertRules(db));
  shared = { at: now, rows };
  return rows;
}

/** A rule changed (a session was told): the next read goes to libSQL. */
export function forgetSharedRules(): void {
  shared = undefined;
}
