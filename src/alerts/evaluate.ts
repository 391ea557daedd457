import type { AlertMetric } from "../alert-rules/metrics";

export type AlertLevel = "warning" | "critical";

/** A rule as a node's session evaluates it (from `alert_rules`). */
export interface EvalRule {
  id: string;
  metric: AlertMetric;
  operator: "gt" | "lt";
  warning: number;
  critical: number | null;
  forSeconds: number;
}

/**
 * What a session remembers per rule between heartbeats: when the condition started holding
 * (pending), and the firing alert if there is one. Absent = the condition does not hold.
 */
export interface RuleState {
  pendingSince: number;
  /** The firing alert; metric and threshold kept so it can resolve even after its rule is gone. */
  alert?: {
    id: string;
    level: AlertLevel;
    startedAt: number;
    peak: number;
    metric: AlertMetric;
    threshold: number;
  };
}

/** A change worth a libSQL write: the alert row and its event. */
export interface AlertTransition {
  kind: "fired" | "escalated" | "resolved";
  alertId: string;
  ruleId: string;
  metric: AlertMetric;
  level: AlertLevel;
  value: number;
  peak: number;
  threshold: number;
  startedAt: number;
  at: number;
}

function crosses(rule: EvalRule, value: number, threshold: number): boolean {
  return rule.operator === "gt" ? value > threshold : value < threshold;
}

/** The level `value` breaches, or null. */
export function breachLevel(rule: EvalRule, value: number): AlertLevel | null {
  if (rule.critical !== null && crosses(rule, value, rule.critical)) return "critical";
  return crosses(rule, value, rule.warning) ? "warning" : null;
}

const thresholdOf = (rule: EvalRule, level: AlertLevel) =>
  level === "critical" && rule.critical !== null ? rule.critical : rule.warning;

/**
 * One rule against one sample (Prometheus-style `for`): the condition must hold for `forSeconds`
 * before the alert fires; a firing warning escalates when the critical threshold is crossed (it
 * does not de-escalate); the alert resolves when the condition clears. Returns the next state
 * (undefined when there is nothing to remember) and the transition, if any.
 */
export function evaluate(
  rule: EvalRule,
  value: number,
  state: RuleState | undefined,
  now: number,
  newId: () => string = () => crypto.randomUUID(),
): { state: RuleState | undefined; transition?: AlertTransition } {
  const level = breachLevel(rule, value);
  const alert = state?.alert;
  if (alert) {
    const base = {
      alertId: alert.id,
      ruleId: rule.id,
      metric: rule.metric,
      value,
      startedAt: alert.startedAt,
      at: now,
    };
    if (level === null) {
      const transition: AlertTransition = {
        ...base,
        kind: "resolved",
        level: alert.level,
        peak: alert.peak,
        threshold: thresholdOf(rule, alert.level),
      };
      return { state: undefined, transition };
    }
    const peak = rule.operator === "gt" ? Math.max(alert.peak, value) : Math.min(alert.peak, value);
    const next: RuleState = { pendingSince: state.pendingSince, alert: { ...alert, peak } };
    if (level === "critical" && alert.level === "warning") {
      next.alert = { ...alert, peak, level: "critical", threshold: thresholdOf(rule, level) };
      return {
        state: next,
        transition: { ...base, kind: "escalated", level, peak, threshold: thresholdOf(rule, level) },
      };
    }
    return { state: next };
  }
  if (level === null) return { state: undefined };
  const pendingSince = state?.pendingSince ?? now;
  if (now - pendingSince < rule.forSeconds * 1000) return { state: { pendingSince } };
  const id = newId();
  return {
    state: {
      pendingSince,
      alert: {
        id,
        level,
        startedAt: now,
        peak: value,
        metric: rule.metric,
        threshold: thresholdOf(rule, level),
      },
    },
    transition: {
      kind: "fired",
      alertId: id,
      ruleId: rule.id,
      metric: rule.metric,
      level,
      value,
      peak: value,
      threshold: thresholdOf(rule, level),
      startedAt: now,
      at: now,
    },
  };
}
