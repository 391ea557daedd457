import * as v from "valibot";
import { describe, expect, it } from "vitest";
import { LimitInput, resolveLimit } from "../../src/commands/rollout-limits";

describe("rollout limits", () => {
  it("accept a whole number from the floor up or a percentage 1–100%, stored as the string given", () => {
    const concurrency = LimitInput(1);
    expect(v.parse(concurrency, 2)).toBe("2");
    expect(v.parse(concurrency, "10%")).toBe("10%");
    for (const bad of [0, 1.5, "0%", "101%", "10", "%", -1, null])
      expect(v.safeParse(concurrency, bad).success).toBe(false);
    expect(v.parse(LimitInput(0), 0)).toBe("0");
    expect(v.parse(LimitInput(0), "0%")).toBe("0%");
  });

  it("resolve a percentage against the targets rounding down, never below the floor", () => {
    expect(resolveLimit("10%", 1000, 1)).toBe(100);
    expect(resolveLimit("10%", 5, 1)).toBe(1);
    expect(resolveLimit("34%", 3, 1)).toBe(1);
    expect(resolveLimit("50%", 3, 0)).toBe(1);
    expect(resolveLimit("0%", 3, 0)).toBe(0);
    expect(resolveLimit("7", 3, 1)).toBe(7);
  });
});
