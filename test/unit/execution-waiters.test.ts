import { describe, expect, it } from "vitest";
import { ExecutionWaiters, type SettledExecution } from "../../durable-objects/node-session/waiters";

const settled = (id: string): SettledExecution => ({
  id,
  status: "completed",
  exit_code: 0,
  output: "ok",
  started_at: 1,
  duration_ms: 2,
});

describe("ExecutionWaiters (a synchronous command waiting in a node's session)", () => {
  it("resolves in the order asked once every execution's result was written, and forgets them", async () => {
    const waiters = new ExecutionWaiters();
    const waiting = waiters.wait(["a", "b"], 5_000);
    expect(waiters.size).toBe(2);
    waiters.settle("b", () => settled("b"));
    waiters.settle("a", () => settled("a"));
    expect(await waiting).toEqual([settled("a"), settled("b")]);
    expect(waiters.size).toBe(0);
  });

  it("gives null for a result that changed nothing and for one not in time", async () => {
    const waiters = new ExecutionWaiters();
    const waiting = waiters.wait(["a", "b"], 50);
    waiters.settle("a", () => null);
    expect(await waiting).toEqual([null, null]);
    expect(waiters.size).toBe(0);
  });

  it("builds the answer only when someone waits, and tells every waiter of one execution", async () => {
    const waiters = new ExecutionWaiters();
    let built = 0;
    waiters.settle("nobody", () => {
      built++;
      return settled("nobody");
    });
    expect(built).toBe(0);
    const one = waiters.wait(["a"], 5_000);
    const two = waiters.wait(["a"], 5_000);
    waiters.settle("a", () => {
      built++;
      return settled("a");
    });
    expect(await Promise.all([one, two])).toEqual([[settled("a")], [settled("a")]]);
    expect(built).toBe(1);
  });

  it("answers an empty wait at once", async () => {
    expect(await new ExecutionWaiters().wait([], 5_000)).toEqual([]);
  });
});
