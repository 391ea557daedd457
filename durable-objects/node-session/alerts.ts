import type { AlertRuleRow } from "../../src/alert-rules/store";
import { enabledAlertRules } from "../../src/alert-rules/store";
import { type AlertTransition, type EvalRule, evaluate, type RuleState } from "../../src/alerts/evaluate";
import { nodeClusterName, writeTransitions } from "../../src/alerts/store";
import type { Database } from "../../src/db/client";
import type { Series } from "../../src/metrics-history/buckets";
import type { Targeting } from "../../src/targeting/schema";
import type { SessionStore } from "./store";

/**
 * How long a session trusts its cached rules. A rule change reaches every node within this time
 * without the Worker fanning out to the fleet; a rules version the Worker bumps could shorten it.
 */
export const RULES_TTL_MS = 60_000;

interface CachedRules {
  fetchedAt: number;
  rules: EvalRule[];
}

// Rules with node_filters/cluster_filters need the node list's SQL; until the session can run it,
// only `all`, `nodes` and `clusters` targetings select a node (filtered rules are skipped).
function applies(targeting: Targeting, nodeId: string, clusterName: string | null): boolean {
  if (targeting.node_filters || targeting.cluster_filters) return false;
  if (targeting.type === "all") return true;
  if (targeting.type === "nodes") return targeting.node_ids?.includes(nodeId) ?? false;
  return clusterName !== null && (targeting.cluster_names?.includes(clusterName) ?? false);
}

function toEvalRule(row: AlertRuleRow): EvalRule {
  return {
    id: row.id,
    metric: row.metric as Series,
    operator: row.operator === "lt" ? "lt" : "gt",
    warning: row.warningThreshold,
    critical: row.criticalThreshold,
    forSeconds: row.forSeconds,
  };
}

/**
 * Evaluates the alert rules that select this node on each heartbeat. Rules are cached in the
 * session's storage (it survives hibernation) and refreshed after `RULES_TTL_MS`; the per-rule
 * state lives there too and is only rewritten when it changes, so a steady state writes nothing
 * to libSQL. Transitions go to libSQL in one batch before the state that records them is saved:
 * a failed write is retried by the next heartbeat.
 */
export async function evaluateAlerts(
  session: { nodeId: string; store: SessionStore; db(): Database },
  values: Record<Series, number>,
  now: number,
): Promise<AlertTransition[]> {
  const rules = await cachedRules(session, now);
  const states = session.store.get<Record<string, RuleState>>("alert_state") ?? {};
  const next: Record<string, RuleState> = {};
  const transitions: AlertTransition[] = [];
  for (const rule of rules) {
    const out = evaluate(rule, values[rule.metric], states[rule.id], now);
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
  if (transitions.length > 0) await writeTransitions(session.db(), session.nodeId, transitions);
  session.store.set("alert_state", next);
  return transitions;
}

async function cachedRules(
  session: { nodeId: string; store: SessionStore; db(): Database },
  now: number,
): Promise<EvalRule[]> {
  const cached = session.store.get<CachedRules>("alert_rules");
  if (cached && now - cached.fetchedAt < RULES_TTL_MS) return cached.rules;
  const db = session.db();
  const [rows, clusterName] = await Promise.all([enabledAlertRules(db), nodeClusterName(db, session.nodeId)]);
  const rules = rows
    .filter((r) => applies(JSON.parse(r.targeting) as Targeting, session.nodeId, clusterName))
    .map(toEvalRule);
  session.store.set("alert_rules", { fetchedAt: now, rules });
  return rules;
}
