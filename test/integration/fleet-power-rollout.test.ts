import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { runCronTick } from "../../workers/cron";
import { connectAgent } from "./agent-session";
import {
  api,
  db,
  HELLO,
  online,
  setUpExecutions,
  startExecutionsFile,
  waitFrame,
} from "./executions-fixture";

// The fleet power action's `max_concurrency` (issue 21): real sessions with simulated agents, the
// release by the confirming hello (the cron's pass over running rollouts is the safety net), a
// reboot confirmed by a hello with a new boot id.

startExecutionsFile();

beforeAll(() => setUpExecutions());

type Online = Awaited<ReturnType<typeof online>>;

async function answer(agent: Online["agent"], executionId: string) {
  await waitFrame(agent, "exec", executionId);
  const started = Date.now() - 1500;
  agent.send({
    type: "result",
    execution_id: executionId,
    exit_code: 0,
    output: "scheduled",
    truncated: false,
    started_at: started,
    finished_at: started + 1234,
  });
  await waitFrame(agent, "ack", executionId);
}

async function statuses(ids: string[]): Promise<string[]> {
  return Promise.all(ids.map(async (id) => (await api.get(`/api/v1/power_actions/${id}`)).body.data.status));
}

const IN_PROGRESS = new Set(["pending", "scheduled", "issued"]);

describe("fleet power actions with max_concurrency", () => {
  it.each([["0"], ["150%"], ["abc"], [-1], [0], ["0%"], [1.5]])(
    "max_concurrency %j is a 422 naming the field",
    async (bad) => {
      const a = await online();
      const res = await api.post("/api/v1/power_actions", {
        targeting: { type: "nodes", node_ids: [a.nodeId] },
        action: "reboot",
        confirm: true,
        max_concurrency: bad,
      });
      expect(res.status, JSON.stringify(res.body)).toBe(422);
      expect(res.body.error.details.max_concurrency).toBeDefined();
    },
  );

  it("keeps at most N nodes in progress, releases the rest oldest first as reboots are confirmed, and cancels a waiting one", async () => {
    const nodes: Online[] = [];
    for (let i = 0; i < 4; i++) nodes.push(await online());
    for (const n of nodes) await db.run(sql`UPDATE nodes SET boot_id = 'boot-before' WHERE id = ${n.nodeId}`);
    const res = await api.post("/api/v1/power_actions", {
      targeting: { type: "nodes", node_ids: nodes.map((n) => n.nodeId) },
      action: "reboot",
      confirm: true,
      delay_seconds: 0,
      max_concurrency: "50%",
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const byNode = new Map(res.body.data.map((x: any) => [x.node_id, x]));
    const actions = nodes.map((n) => byNode.get(n.nodeId) as any);
    const ids = actions.map((x) => x.id);
    const check = async () => {
      const now = await statuses(ids);
      expect(now.filter((s) => IN_PROGRESS.has(s)).length, now.join()).toBeLessThanOrEqual(2);
      return now;
    };
    // The two oldest nodes go first; the others wait (and the list filter knows the state).
    expect(await check()).toEqual(["pending", "pending", "waiting", "waiting"]);
    const waiting = await api.get(`/api/v1/power_actions?status=waiting&node_id=${nodes[2]!.nodeId}`);
    expect(waiting.status, JSON.stringify(waiting.body)).toBe(200);
    expect(waiting.body.data.map((x: any) => x.id)).toEqual([ids[2]]);

    // Scheduled on the machine is still in progress: nothing is released, even by the cron.
    await answer(nodes[0]!.agent, actions[0].execution_id);
    await answer(nodes[1]!.agent, actions[1].execution_id);
    await runCronTick(api.env);
    expect((await check()).slice(2)).toEqual(["waiting", "waiting"]);

    // Node 0 comes back from another boot: its slot frees and the cron releases node 2.
    const beforeHello = Date.now();
    const back = await connectAgent(api, nodes[0]!.token);
    back.send({ ...HELLO, boot_id: "boot-after" });
    await back.next("config");
    expect((await statuses([ids[0]]))[0]).toBe("completed");
    await runCronTick(api.env);
    expect(await check()).toEqual([
      "completed",
      expect.stringMatching(/scheduled|issued/),
      "pending",
      "waiting",
    ]);
    await waitFrame(nodes[2]!.agent, "exec", actions[2].execution_id);
    const released = (await api.get(`/api/v1/power_actions/${ids[2]}`)).body.data;
    // Scheduled from its turn (delay_seconds 0 → the 5 s floor), not from the request.
    expect(Date.parse(released.scheduled_at)).toBeGreaterThanOrEqual(
      Math.floor(beforeHello / 1000) * 1000 + 5000,
    );

    // A waiting one is cancelled without ever reaching its node.
    const cancelled = await api.patch(`/api/v1/power_actions/${ids[3]}/cancel`, {});
    expect(cancelled.status, JSON.stringify(cancelled.body)).toBe(200);
    expect(cancelled.body.data.status).toBe("cancelled");
    expect((await api.get(`/api/v1/command_executions/${actions[3].execution_id}`)).body.data.status).toBe(
      "cancelled",
    );
    expect((await api.patch(`/api/v1/power_actions/${ids[3]}/cancel`, {})).status).toBe(409);
    await check();
  });

  it("a shutdown holds its slot until its node is offline after the scheduled time; the cron then releases the next", async () => {
    const first = await online();
    const second = await online();
    const res = await api.post("/api/v1/power_actions", {
      targeting: { type: "nodes", node_ids: [first.nodeId, second.nodeId] },
      action: "shutdown",
      confirm: true,
      delay_seconds: 0,
      max_concurrency: 1,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const [a, b] = [first, second].map((n) => res.body.data.find((x: any) => x.node_id === n.nodeId));
    expect(await statuses([a.id, b.id])).toEqual(["pending", "waiting"]);
    await answer(first.agent, a.execution_id);
    // Due but the node still answers: in progress.
    await db.run(sql`UPDATE power_actions SET scheduled_at = ${Date.now() - 1000} WHERE id = ${a.id}`);
    await runCronTick(api.env);
    expect((await statuses([b.id]))[0]).toBe("waiting");
    // Gone offline after its scheduled time: finished, and the cron hands the slot on.
    await db.run(sql`UPDATE nodes SET status = 'unreachable' WHERE id = ${first.nodeId}`);
    await runCronTick(api.env);
    await waitFrame(second.agent, "exec", b.execution_id);
    expect((await statuses([b.id]))[0]).toBe("pending");
  });
});
