import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { advanceRolloutsAndClaim } from "../../src/commands/rollout";
import { applyResults } from "../../src/executions/lifecycle";
import { enrolNode } from "./agent-session";
import {
  api,
  db,
  LIVE,
  online,
  run,
  setUpExecutions,
  startExecutionsFile,
  waitFrame,
} from "./executions-fixture";
import { eventually } from "./harness";

startExecutionsFile();

// How the result writer moves a rollout on (issue 21's pacing): one advance per group of results,
// claiming what it released in the same transaction for the writer to push to the sessions.
beforeAll(() => setUpExecutions());

const live = (commandId: string) =>
  db.all<{ node_id: string; status: string; held: number }>(
    sql`SELECT node_id, status, held FROM command_executions WHERE command_id = ${commandId}
         AND status IN ('pending', 'sent') AND held = 0`,
  );

describe("rollout pacing in the result writer", () => {
  it("releases as many as the results freed, claims them for connected nodes only, and never exceeds the window", async () => {
    // Enrolled one after the other: the rollout goes oldest node first.
    const first = await online();
    const second = await online();
    const { nodeId: offline } = await enrolNode(api, LIVE);
    await db.run(sql`UPDATE nodes SET status = 'unreachable' WHERE id = ${offline}`);
    const third = await online();
    const { command, executions } = await run([first.nodeId, second.nodeId, offline, third.nodeId], {
      max_concurrency: 2,
    });
    const of = new Map(executions.map((e) => [e.node_id as string, e.id as string]));
    expect((await live(command.id)).map((r) => r.node_id).sort()).toEqual(
      [first.nodeId, second.nodeId].sort(),
    );
    // Both of the window finish in one group: each outcome names the command to advance.
    const outcomes = await applyResults(db, [
      { nodeId: first.nodeId, executionId: of.get(first.nodeId)!, exitCode: 0, output: "" },
      { nodeId: second.nodeId, executionId: of.get(second.nodeId)!, exitCode: 0, output: "" },
    ]);
    expect(outcomes).toMatchObject([
      { commandId: command.id, rollout: true },
      { commandId: command.id, rollout: true },
    ]);
    const claimed = await advanceRolloutsAndClaim(db, [command.id]);
    // Two slots freed, two released; only the connected node's row is claimed (`sent`).
    expect([...claimed.keys()]).toEqual([third.nodeId]);
    expect(claimed.get(third.nodeId)?.map((e) => e.id)).toEqual([of.get(third.nodeId)]);
    const after = await live(command.id);
    expect(after).toHaveLength(2);
    expect(Object.fromEntries(after.map((r) => [r.node_id, r.status]))).toEqual({
      [offline]: "pending",
      [third.nodeId]: "sent",
    });
    // Advancing again (a repeat, or another writer's round) finds no free slot.
    expect((await advanceRolloutsAndClaim(db, [command.id])).size).toBe(0);
    expect(await live(command.id)).toHaveLength(2);
    for (const a of [first, second, third]) a.agent.ws.close(1000);
  });

  it("moves a rollout on from the agents' results alone: the next node gets its exec from the writer", async () => {
    const agents = [await online(), await online(), await online()];
    const { command, executions } = await run(
      agents.map((a) => a.nodeId),
      { max_concurrency: 1 },
    );
    const of = new Map(executions.map((e) => [e.node_id as string, e.id as string]));
    for (const a of agents) {
      const id = of.get(a.nodeId)!;
      await waitFrame(a.agent, "exec", id);
      a.agent.send({ type: "result", execution_id: id, exit_code: 0, output: "ok", truncated: false });
      await waitFrame(a.agent, "ack", id);
    }
    // The last result's advance marks the rollout completed (the writer's round follows the ack).
    await eventually(async () =>
      expect((await api.get(`/api/v1/commands/${command.id}`)).body.data.rollout.status).toBe("completed"),
    );
    for (const a of agents) a.agent.ws.close(1000);
  });
});
