import { describe, expect, it } from "vitest";
import { runBlock, withRun } from "../../bench/lib/result-file";
import type { BenchResult } from "../../bench/lib/types";

const result = (value: string): BenchResult => ({
  name: "sync",
  title: "Sync",
  markdown: ["| a |", "| --- |", `| ${value} |`],
  goals: [{ what: "ratio", goal: "≤ 3", value, met: true }],
  notes: [],
  data: {},
});

describe("a benchmark's results file", () => {
  it("keeps the notes written under the title when a run is added, and replaces only the last run after", () => {
    const notes = "# Sync, by hand\n\n## Earlier runs\n\nratio 2.35 on 2026-12-05.\n";
    const first = withRun(notes, "Sync", runBlock(result("2.87"), { subject: "count 100" }));
    expect(first.startsWith("# Sync, by hand\n")).toBe(true);
    expect(first).toContain("| 2.87 |");
    expect(first).toContain("- ratio: 2.87 (goal ≤ 3, met)");
    expect(first).toContain("## Earlier runs\n\nratio 2.35 on 2026-12-05.");

    const second = withRun(first, "Sync", runBlock(result("2.91"), { size: "quick" }));
    expect(second).toContain("| 2.91 |");
    expect(second).not.toContain("| 2.87 |");
    expect(second).toContain("(quick)");
    expect(second).toContain("## Earlier runs\n\nratio 2.35 on 2026-12-05.");
    expect(second.split("bench: last run").length).toBe(2);
  });

  it("starts a new file with the result's title", () => {
    const text = withRun(null, "Sync", runBlock(result("1.00"), { footer: "Full size: `npm run bench`." }));
    expect(text.startsWith("# Sync\n\n")).toBe(true);
    expect(text).toContain("Full size: `npm run bench`.");
  });
});
