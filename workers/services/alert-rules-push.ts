import type { Env } from "../../src/config";
import type { Database } from "../../src/db/client";
import { createLogger } from "../../src/log";
import type { Targeting } from "../../src/targeting/schema";
import { nodeSession } from "./node-sessions";
import { resolveTargeting } from "./targeting";

/** Sessions told at once. */
const WAVE = 20;
/**
 * Up to this many selected nodes are told from the request itself (its own subrequests). A rule
 * over more nodes reaches them through the sessions' rule cache instead, within its lifetime
 * (`RULES_TTL_MS`, a minute): a rule change is rare, a fleet-wide fan-out for it is not worth it.
 */
export const DIRECT_RULES_PUSH_LIMIT = 200;
const log = createLogger({ fields: { service: "alert-rules-push" } });

/** The node ids one stored targeting selects now; none when it selects nothing (or no longer can). */
async function selected(db: Database, targeting: string): Promise<string[]> {
  try {
    return await resolveTargeting(db, JSON.parse(targeting) as Targeting);
  } catch {
    // A targeting that matches nothing is a 422 for a command; here it just selects no session.
    return [];
  }
}

/**
 * A rule changed: the sessions of the nodes it selected before or selects now drop their cached
 * rules, so their next heartbeat evaluates the new ones (a raised threshold resolves at once, a
 * new rule fires at once). Best effort; past `DIRECT_RULES_PUSH_LIMIT` nodes the cache lifetime
 * covers it. Returns how many sessions were told.
 */
export async function pushAlertRulesChange(env: Env, db: Database, targetings: string[]): Promise<number> {
  const ids = [...new Set((await Promise.all(targetings.map((t) => selected(db, t)))).flat())];
  if (ids.length > DIRECT_RULES_PUSH_LIMIT) return 0;
  let told = 0;
  for (let i = 0; i < ids.length; i += WAVE) {
    const wave = ids.slice(i, i + WAVE);
    const results = await Promise.all(
      wave.map((id) =>
        nodeSession(env, id)
          .alertRulesChanged()
          .then(() => true)
          .catch((error: unknown) => {
            log.warn("alert rules push failed", { node_id: id, error });
            return false;
          }),
      ),
    );
    told += results.filter(Boolean).length;
  }
  return told;
}
