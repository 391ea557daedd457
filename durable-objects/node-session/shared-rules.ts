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
 * When this isolate's read in flight started (none: no read in flight). Under load a libSQL round
 * trip takes seconds, and every session whose refresh came due meanwhile missed the shared copy and
 * read on its own: 496–550 reads of the rules in one timed fan-out to 1,000 nodes (03:22 UTC run).
 */
let readingSince: number | undefined;
/** A read in flight longer than this is taken as lost (its instance went away): the next one reads. */
const READ_IN_FLIGHT_MS = 10_000;

/**
 * The enabled rules, read from libSQL unless this isolate read them less than `SHARED_RULES_MS`
 * ago; null when another session of the isolate is reading them (the caller keeps its cached rules
 * and asks again later). `fresh` reads them in any case (a session without stored rules: new, or
 * told to forget them).
 */
export async function sharedEnabledRules(
  db: Database,
  now: number,
  fresh = false,
): Promise<readonly AlertRuleRow[] | null> {
  if (!fresh && shared && now - shared.at >= 0 && now - shared.at < SHARED_RULES_MS) return shared.rows;
  const started = Date.now();
  if (!fresh && readingSince !== undefined && started - readingSince < READ_IN_FLIGHT_MS) return null;
  readingSince = started;
  try {
    const rows = Object.freeze(await enabledAlertRules(db));
    shared = { at: now, rows };
    return rows;
  } finally {
    if (readingSince === started) readingSince = undefined;
  }
}

/** A rule changed (a session was told): the next read goes to libSQL. */
export function forgetSharedRules(): void {
  shared = undefined;
  readingSince = undefined;
}
