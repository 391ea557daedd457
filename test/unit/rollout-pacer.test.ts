import { describe, expect, it } from "vitest";
import { RolloutPacer } from "../../durable-objects/batch-writer/rollout-pacer";

/** An advance that records each round and can be held open or made to fail once. */
function recorder() {
  const rounds: string[][] = [];
  let release: (() => void) | null = null;
  let held: Promise<void> | null = null;
  let failNext = false;
  return {
    rounds,
    hold() {
      held = new Promise((r) => {
        release = r;
      });
    },
    release() {
      release?.();
      held = null;
    },
    failOnce() {
      failNext = true;
    },
    async advance(ids: string[]): Promise<void> {
      rounds.push([...ids]);
      if (held) await held;
      if (failNext) {
        failNext = false;
        throw new Error("busy");
      }
    },
  };
}

const settle = () => new Promise((r) => setTimeout(r, 5));

describe("RolloutPacer", () => {
  it("advances a lone command at once", async () => {
    const r = recorder();
    const pacer = new RolloutPacer(r.advance, () => {});
    pacer.mark(["c1"]);
    await settle();
    expect(r.rounds).toEqual([["c1"]]);
    expect(pacer.advanced).toEqual({ rounds: 1, commands: 1 });
  });

  it("groups the commands marked while an advance runs into one next round, each once", async () => {
    const r = recorder();
    const pacer = new RolloutPacer(r.advance, () => {});
    r.hold();
    pacer.mark(["c1"]);
    // A window's results finishing together: many marks, two commands.
    for (let i = 0; i < 50; i++) pacer.mark([i % 2 === 0 ? "c1" : "c2"]);
    await settle();
    expect(r.rounds).toEqual([["c1"]]);
    r.release();
    await settle();
    expect(r.rounds).toEqual([["c1"], ["c1", "c2"]]);
  });

  it("reports a failed round and goes on with the next", async () => {
    const r = recorder();
    const errors: string[][] = [];
    const pacer = new RolloutPacer(r.advance, (_, ids) => errors.push(ids));
    r.hold();
    r.failOnce();
    pacer.mark(["c1"]);
    pacer.mark(["c2"]);
    r.release();
    await settle();
    expect(errors).toEqual([["c1"]]);
    expect(r.rounds).toEqual([["c1"], ["c2"]]);
    // An empty mark starts nothing.
    pacer.mark([]);
    await settle();
    expect(r.rounds).toHaveLength(2);
  });
});
