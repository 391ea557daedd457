import type { AlertMetric } from "../../src/alert-rules/metrics";
import type { AlertRuleRow } from "../../src/alert-rules/store";
import { type AlertTransition, type EvalRule, evaluate, type RuleState } from "../../src/alerts/evaluate";
import { firingAlertIds, nodeClusterName, writeTransitions } from "../../src/alerts/store";
import type { Env } from "../../src/config";
import type { Database } from "../../src/db/client";
import { notifySoon } from "../../src/notification-channels/prompt";
import { targetingSelectsNode } from "../../src/targeting/match";
import type { Targeting } from "../../src/targeting/schema";
import { forgetSharedRules, sharedEnabledRules } from "./shared-rules";
import type { SessionStore } from "./store";

/**
 * How long a session trusts its cached rules. A rule change reaches every node within this time
 * without the Worker fanning out to the fleet; a rules version the Worker bumps could shorten it.
 */
export const RULES_TTL_MS = 60_000;

interface CachedRules {
  rules: EvalRule[];
}

/**
 * Where a session keeps when its rules are next fetched. Not beside the rules in storage: a stored
 * time changed the row every minute, one storage commit (an fsync on workerd's one thread) per
 * node per minute even when no rule changed (issue 23). Not only in the instance's memory either:
 * a hibernated session is constructed again for about every heartbeat, so a time kept there was
 * lost each time and every such heartbeat fetched the rules and the node's cluster again (181 of
 * each in one timed fan-out to 1,000 nodes). The NodeSession keeps it in the live connection's
 * attachment, which the runtime holds in memory across hibernation without writing it anywhere.
 */
export interface RulesClock {
  refreshAt(): number | undefined;
  setRefreshAt(at: number | undefined): void;
}

/**
 * The cluster passed to `targetingSelectsNode` for targetings that do not name clusters, which
 * only ask whether the node has one (it has: its session is connected).
 */
const OWN_NODE = "";

/**
 * A refresh's lifetime: between half and all of `RULES_TTL_MS`, at random. A fleet that connected
 * in one wave otherwise refreshed in one wave every minute, all inside whatever ran then (the
 * spread of issue 23's timed fan-outs); jittered, the refreshes spread over the minute.
 */
function refreshAfter(now: number): number {
  return now + RULES_TTL_MS * (0.5 + Math.random() / 2);
}

/** The node's rules changed (the Worker says so): the next evaluation fetches them again. */
export function forgetCachedRules(clock: RulesClock): void {
  clock.setRefreshAt(undefined);
  forgetSharedRules();
}

type AlertSession = {
  nodeId: string;
  env: Env;
  store: SessionStore;
  rulesClock: RulesClock;
  db(): Database;
  /** Lets work finish after the frame is handled (`ctx.waitUntil`). */
  background(task: Promise<unknown>): void;
};

function toEvalRule(row: AlertRuleRow): EvalRule {
  return {
    id: row.id,
    metric: row.metric as AlertMetric,
    operator: row.operator === "lt" ? "lt" : "gt",
    warning: row.warningThreshold,
    critical: row.criticalThreshold,
    forSeconds: row.forSeconds,
  };
}

/**
 * Evaluates the alert rules that select this node against the metrics in `values` (rules on a
 * metric absent from `values` keep their state). Rules are cached in the session's storage (it
 * survives hibernation) and refreshed after `RULES_TTL_MS`; the per-rule state lives there too and
 * is only rewritten when it changes, so a steady state writes nothing to libSQL. Transitions go to
 * libSQL in one batch before the state that records them is saved: a failed write is retried by
 * the next evaluation.
 */
export async function evaluateAlerts(
  session: AlertSession,
  values: Partial<Record<AlertMetric, number>>,
  now: number,
): Promise<AlertTransition[]> {
  const rules = await cachedRules(session, now);
  const states = session.store.get<Record<string, RuleState>>("alert_state") ?? {};
  const next: Record<string, RuleState> = {};
  const transitions: AlertTransition[] = [];
  for (const rule of rules) {
    const value = values[rule.metric];
    if (value === undefined) {
      const kept = states[rule.id];
      if (kept) next[rule.id] = kept;
      continue;
    }
    const out = evaluate(rule, value, states[rule.id], now);
    if (out.state) next[rule.id] = out.state;
    if (out.transition) transitions.push(out.transition);
  }
  // A rule that was deleted, disabled or retargeted while firing: its alert resolves.
  for (const [ruleId, state] of Object.entries(states)) {
    if (next[ruleId] || !state.alert || rules.some((r) => r.id === ruleId)) continue;
    const a = state.alert;
    transitions.push({
      kind: "resolved",
      alertId: a.id,
      ruleId,
      metric: a.metric,
      level: a.level,
      value: a.peak,
      peak: a.peak,
      threshold: a.threshold,
      startedAt: a.startedAt,
      at: now,
    });
  }
  if (transitions.length > 0) {
    await writeTransitions(session.db(), session.nodeId, transitions);
    // The events are in the outbox: their notifications go now, not at the next cron tick.
    notifySoon(session.env, (task) => session.background(task));
  }
  session.store.set("alert_state", next);
  return transitions;
}

/**
 * The agent is gone: `node_unreachable` rules see 1. Returns when the session should look again
 * (the earliest pending rule's `for` deadline), or null when nothing is pending.
 */
export async function evaluateUnreachable(session: AlertSession, now: number): Promise<number | null> {
  await evaluateAlerts(session, { node_unreachable: 1 }, now);
  const rules = (session.store.get<CachedRules>("alert_rules")?.rules ?? []).filter(
    (r) => r.metric === "node_unreachable",
  );
  const states = session.store.get<Record<string, RuleState>>("alert_state") ?? {};
  let due: number | null = null;
  for (const rule of rules) {
    const state = states[rule.id];
    if (!state || state.alert) continue;
    const at = state.pendingSince + rule.forSeconds * 1000;
    due = due === null ? at : Math.min(due, at);
  }
  return due;
}

async function cachedRules(session: AlertSession, now: number): Promise<EvalRule[]> {
  const cached = session.store.get<CachedRules>("alert_rules");
  const refreshAt = session.rulesClock.refreshAt();
  if (cached && refreshAt !== undefined && now < refreshAt) return cached.rules;
  const db = session.db();
  const rows = await sharedEnabledRules(db, now, !cached);
  // Another session is reading them: keep what is cached and look again at the next heartbeat.
  if (rows === null) return cached?.rules ?? [];
  const targetings = rows.map((r) => JSON.parse(r.targeting) as Targeting);
  // Only a rule naming clusters needs the node's cluster (the built-in rules target all nodes):
  // read per node and refresh, it was one more libSQL round trip per node a minute. For the others
  // the session's own node is the one selected (a deleted node's session is closed and forgotten).
  const clusterName = targetings.some((t) => t.type === "clusters")
    ? await nodeClusterName(db, session.nodeId)
    : OWN_NODE;
  const selected = await Promise.all(
    targetings.map((t) => targetingSelectsNode(db, t, session.nodeId, clusterName)),
  );
  const rules = rows.filter((_, i) => selected[i]).map(toEvalRule);
  // Written only when the rules differ from the stored ones (SessionStore.set compares).
  session.store.set("alert_rules", { rules });
  session.rulesClock.setRefreshAt(refreshAfter(now));
  await forgetClearedAlerts(session, db);
  return rules;
}

// An operator may clear (resolve by hand) a firing alert in libSQL; the session learns it with the
// rules refresh and forgets the alert, so a condition that still holds starts a new episode.
async function forgetClearedAlerts(session: AlertSession, db: Database): Promise<void> {
  const states = session.store.get<Record<string, RuleState>>("alert_state") ?? {};
  const held = Object.values(states).flatMap((s) => (s.alert ? [s.alert.id] : []));
  if (held.length === 0) return;
  const firing = new Set(await firingAlertIds(db, held));
  const next: Record<string, RuleState> = {};
  for (const [ruleId, state] of Object.entries(states)) {
    if (state.alert && !firing.has(state.alert.id)) continue;
    next[ruleId] = state;
  }
  session.store.set("alert_state", next);
}
