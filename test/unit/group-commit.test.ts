import { describe, expect, it } from "vitest";
import { GroupCommit } from "../../durable-objects/batch-writer/group-commit";

/** A flush that records each group and can be held open or made to fail. */
function recorder(options: { failTimes?: number; poison?: string } = {}) {
  const groups: string[][] = [];
  let release: (() => void) | null = null;
  let held: Promise<void> | null = null;
  let failures = options.failTimes ?? 0;
  return {
    groups,
    hold() {
      held = new Promise((r) => {
        release = r;
      });
    },
    release() {
      release?.();
      held = null;
    },
    async flush(items: string[]): Promise<string[]> {
      groups.push([...items]);
      if (held) await held;
      if (failures > 0) {
        failures--;
        throw new Error("busy");
      }
      if (options.poison && items.includes(options.poison)) throw new Error(`bad item ${options.poison}`);
      return items.map((i) => i.toUpperCase());
    },
  };
}

const OPTIONS = { maxItems: 3, maxSize: 10, sizeOf: (s: string) => s.length, retries: 2, retryDelayMs: 1 };

describe("GroupCommit", () => {
  it("writes a lone item at once", async () => {
    const r = recorder();
    const commit = new GroupCommit(r.flush, OPTIONS);
    expect(await commit.submit("a")).toBe("A");
    expect(r.groups).toEqual([["a"]]);
  });

  it("groups the items that arrive while a write is in flight, within the item and size limits", async () => {
    const r = recorder();
    r.hold();
    const commit = new GroupCommit(r.flush, OPTIONS);
    const first = commit.submit("a");
    const rest = ["b", "c", "d", "e", "ffffffffffff", "g"].map((x) => commit.submit(x));
    expect(commit.backlog).toBe(6);
    r.release();
    expect(await Promise.all([first, ...rest])).toEqual(["A", "B", "C", "D", "E", "FFFFFFFFFFFF", "G"]);
    // 3 items at most; "e" and the 12 characters together pass the size limit of 10, and an item
    // larger than the limit still goes, alone.
    expect(r.groups).toEqual([["a"], ["b", "c", "d"], ["e"], ["ffffffffffff"], ["g"]]);
  });

  it("retries a failed write, and resolves every item of it", async () => {
    const r = recorder({ failTimes: 2 });
    const commit = new GroupCommit(r.flush, OPTIONS);
    expect(await commit.submit("a")).toBe("A");
    expect(r.groups).toEqual([["a"], ["a"], ["a"]]);
  });

  it("splits a write that keeps failing, so one bad item fails alone", async () => {
    const r = recorder({ poison: "bad" });
    r.hold();
    const commit = new GroupCommit(r.flush, OPTIONS);
    const first = commit.submit("x");
    const group = ["a", "bad", "c"].map((x) => commit.submit(x));
    r.release();
    expect(await first).toBe("X");
    const settled = await Promise.allSettled(group);
    expect(settled.map((s) => s.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect((settled[1] as PromiseRejectedResult).reason.message).toBe("bad item bad");
    expect(commit.backlog).toBe(0);
  });
});
