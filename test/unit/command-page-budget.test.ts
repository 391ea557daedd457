// M3: a commands list page stays within its byte budget whatever the rows hold (64 KiB command texts
// of control characters, targeting lists of thousands of ids), and rows within the budget are whole.
import { describe, expect, it } from "vitest";
import { COMMAND_PAGE_BUDGET_BYTES, presentCommandPage } from "../../src/commands/present";
import type { CommandRow } from "../../src/commands/store";

function row(i: number, commandText: string, nodeIds: string[]): CommandRow {
  return {
    id: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
    commandText,
    targeting: JSON.stringify({ type: "nodes", node_ids: nodeIds }),
    timeout: null,
    expiredAt: null,
    maxConcurrency: null,
    maxErrors: null,
    concurrencyLimit: null,
    errorLimit: null,
    rolloutOrder: null,
    rolloutStatus: null,
    rolloutReason: null,
    insertedAt: 1_700_000_000_000,
    updatedAt: 1_700_000_000_000,
  } as CommandRow;
}

describe("commands list page budget", () => {
  it("keeps 100 worst-case rows within the budget and marks the rows it emptied", () => {
    const ids = Array.from(
      { length: 20_000 },
      (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
    );
    const rows = Array.from({ length: 100 }, (_, i) => row(i, "\u0001".repeat(64 * 1024), ids));
    const page = presentCommandPage(rows);
    const bytes = new TextEncoder().encode(JSON.stringify(page)).length;
    expect(bytes).toBeLessThan(COMMAND_PAGE_BUDGET_BYTES + 100 * 2048);
    const whole = page.filter((c) => !c.truncated);
    const cut = page.filter((c) => c.truncated);
    expect(whole.length).toBeGreaterThan(0);
    expect(cut.length).toBeGreaterThan(0);
    for (const c of whole) expect(c.targeting.node_ids).toHaveLength(20_000);
    for (const c of cut)
      expect(c).toMatchObject({ command_text: "", targeting: { type: "nodes", node_ids: [] } });
  });

  it("leaves an ordinary page untouched", () => {
    const page = presentCommandPage([row(1, "uptime", ["00000000-0000-4000-8000-000000000001"])]);
    expect(page[0].truncated).toBeUndefined();
    expect(page[0].command_text).toBe("uptime");
  });
});
