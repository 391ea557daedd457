// The default sorts and common list filters use indexes: a real stack seeded like the REST
// benchmark (then ANALYZEd), each request sent once, every SELECT the API sent to libSQL captured by
// the benchmark's libSQL probe and run again as EXPLAIN QUERY PLAN. A full scan of a large table or
// a temporary B-tree for ORDER BY fails the test (bench/query-plans.md shows the plans).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BenchStack, startBenchStack } from "../../bench/lib/bench-stack";
import { planQueries, queryPlans } from "../../bench/lib/query-plans";
import { seed } from "../../bench/lib/seed-rest";

describe("query plans of the list endpoints", () => {
  let stack: BenchStack;

  beforeAll(async () => {
    stack = await startBenchStack({ capture: true });
  }, 200_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it("use an index for every default sort and common filter", async () => {
    const seeded = await seed(stack, 2_000, 20_000);
    expect(seeded).toMatchObject({ nodes: 2_000, executions: 20_000 });
    const nodeId = seeded.nodeIds[Math.floor(seeded.nodeIds.length / 2)];
    const commandId = seeded.commandIds[seeded.commandIds.length - 1];
    const plans = await queryPlans(stack, planQueries(nodeId, commandId));
    // Every URL produced at least one captured SELECT (the probe saw the API's queries).
    expect(plans.markdown.match(/^SQL|^⚠ SQL/gm)?.length ?? 0).toBeGreaterThan(20);
    expect(plans.indexedProblems).toEqual([]);
  }, 180_000);
});
