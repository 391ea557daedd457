import { describe, expect, it } from "vitest";
import { outputTails } from "../support/failure-output";

describe("outputTails", () => {
  it("prints each output's last lines under its name, 40 unless told, and leaves absent ones out", () => {
    const long = Array.from({ length: 50 }, (_, i) => `line ${i}`).join("\n");
    const sections = outputTails({
      stack: long,
      agent: { text: "a\nb\nc\nd", lines: 2 },
      gone: undefined,
      "never started": { text: undefined, lines: 10 },
    });
    expect(sections).toHaveLength(2);
    expect(sections[0].split("\n")).toEqual(["--- stack ---", ...long.split("\n").slice(-40)]);
    expect(sections[1]).toBe("--- agent ---\nc\nd");
  });
});
