import { describe, expect, it } from "vitest";
import { updatesAlertValues } from "../../src/alert-rules/metrics";
import { type EvalRule, evaluate, type RuleState } from "../../src/alerts/evaluate";

const rule: EvalRule = { id: "r1", metric: "cpu", operator: "gt", warning: 80, critical: 95, forSeconds: 60 };

function run(values: [number, number][], r = rule) {
  let state: RuleState | undefined;
  const kinds: string[] = [];
  const states: (RuleState | undefined)[] = [];
  for (const [at, value] of values) {
    const out = evaluate(r, value, state, at, () => "a1");
    state = out.state;
    states.push(state);
    if (out.transition) kinds.push(`${out.transition.kind}:${out.transition.level}`);
  }
  return { kinds, state, states };
}

describe("alert evaluation", () => {
  it("fires only after the condition held for for_seconds, escalates, and resolves", () => {
    const { kinds } = run([
      [0, 85],
      [30_000, 86],
      [60_000, 87],
      [75_000, 97],
      [90_000, 99],
      [105_000, 10],
    ]);
    expect(kinds).toEqual(["fired:warning", "escalated:critical", "resolved:critical"]);
  });

  it("a dip below the threshold resets the pending time", () => {
    expect(
      run([
        [0, 85],
        [50_000, 50],
        [70_000, 85],
        [100_000, 85],
      ]).kinds,
    ).toEqual([]);
  });

  it("for_seconds 0 fires on the first breaching sample, critical directly", () => {
    expect(run([[0, 99]], { ...rule, forSeconds: 0 }).kinds).toEqual(["fired:critical"]);
  });

  it("lt rules fire below the threshold and track the lowest value as peak", () => {
    const low: EvalRule = { ...rule, operator: "lt", warning: 10, critical: 5, forSeconds: 0 };
    const { kinds, state } = run(
      [
        [0, 8],
        [1, 6],
      ],
      low,
    );
    expect(kinds).toEqual(["fired:warning"]);
    expect(state?.alert?.peak).toBe(6);
  });

  it("a steady state keeps the same state object contents (nothing to write)", () => {
    const { states } = run([
      [0, 85],
      [60_000, 85],
      [75_000, 85],
      [90_000, 85],
    ]);
    expect(JSON.stringify(states[2])).toBe(JSON.stringify(states[3]));
    expect(
      run([
        [0, 10],
        [1, 20],
      ]).state,
    ).toBeUndefined();
  });
});

describe("the updates section's alert metrics", () => {
  it("gives the security count and reboot_required as 1 or 0, and nothing without the section", () => {
    expect(updatesAlertValues({ security_count: 7, reboot_required: true })).toEqual({
      security_updates_pending: 7,
      reboot_required: 1,
    });
    expect(updatesAlertValues({ security_count: 0, reboot_required: false })).toEqual({
      security_updates_pending: 0,
      reboot_required: 0,
    });
    expect(updatesAlertValues(null)).toEqual({});
    expect(updatesAlertValues(undefined)).toEqual({});
  });

  it("fires a reboot_required rule (gt 0.5) on 1 and resolves it on 0", () => {
    const reboot: EvalRule = {
      ...rule,
      metric: "reboot_required",
      warning: 0.5,
      critical: null,
      forSeconds: 0,
    };
    const fired = evaluate(reboot, 1, undefined, 1000, () => "a2");
    expect(fired.transition).toMatchObject({ kind: "fired", level: "warning", value: 1, threshold: 0.5 });
    expect(evaluate(reboot, 0, fired.state, 2000).transition).toMatchObject({ kind: "resolved" });
  });
});
