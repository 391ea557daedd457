import { describe, expect, it } from "vitest";
import { CallLimit } from "../../workers/services/call-limit";

const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

describe("CallLimit", () => {
  it("runs at most its limit at once across callers, in arrival order, and frees a slot on failure", async () => {
    const limit = new CallLimit(3);
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    const task = (i: number) => async () => {
      running++;
      peak = Math.max(peak, running);
      order.push(i);
      await tick();
      running--;
      if (i === 2) throw new Error("boom");
      return i;
    };
    // Two callers share it, as the messages of one queue batch do.
    const a = Promise.allSettled([0, 1, 2, 3, 4].map((i) => limit.run(task(i))));
    const b = Promise.allSettled([5, 6, 7, 8, 9].map((i) => limit.run(task(i))));
    const results = [...(await a), ...(await b)];
    expect(peak).toBe(3);
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(results.filter((r) => r.status === "rejected")).toHaveLength(1);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(9);
    // Every slot came back: the next three run at once.
    peak = 0;
    await Promise.all([10, 11, 12].map((i) => limit.run(task(i))));
    expect(peak).toBe(3);
  });
});
