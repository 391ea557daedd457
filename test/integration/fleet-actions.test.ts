import { env } from "cloudflare:workers";
import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import type { NodeSession } from "../../durable-objects/node-session";
import { runCronTick } from "../../workers/cron";
import { connectAgent } from "./agent-session";
import {
  api,
  db,
  framesFor,
  HELLO,
  online,
  P,
  setUpExecutions,
  startExecutionsFile,
  waitFrame,
} from "./executions-fixture";
import { eventually } from "./harness";

startExecutionsFile();

beforeAll(() => setUpExecutions());

type Agent = Awaited<ReturnType<typeof online>>["agent"];

async function readCommand(id: string) {
  const res = await api.get(`/api/v1/commands/${id}`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.data;
}

async function executionsOf(commandId: string) {
  const res = await api.get(`/api/v1/command_executions?command_id=${commandId}&page_size=100`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.data as any[];
}

/** Waits for the exec of `commandId`'s execution on `agent` and answers it. */
async function answer(agent: Agent, executionId: string, exitCode: number, output: string) {
  await waitFrame(agent, "exec", executionId);
  const started = Date.now() - 1500;
  agent.send({
    type: "result",
    execution_id: executionId,
    exit_code: exitCode,
    output,
    truncated: false,
    started_at: started,
    finished_at: started + 1234,
  });
  await waitFrame(agent, "ack", executionId);
}

function stubFor(nodeId: string) {
  const ns = (env as any).NODE_SESSION as DurableObjectNamespace<NodeSession>;
  return ns.get(ns.idFromName(nodeId));
}

async function setHostname(nodeId: string, hostname: string) {
  await db.run(sql`UPDATE nodes SET hostname = ${hostname} WHERE id = ${nodeId}`);
}

describe("synchronous commands (wait_seconds)", () => {
  it("answers with every execution's output, started_at and duration_ms once all finished", async () => {
    const a = await online();
    const b = await online();
    const pending = api.post("/api/v1/commands", {
      command_text: `${P} sync`,
      targeting: { type: "nodes", node_ids: [a.nodeId, b.nodeId] },
      wait_seconds: 10,
    });
    // The answer is held: the agents get their execs and answer while the request waits.
    const execOf = async (agent: Agent) =>
      (await agent.until(
        () => agent.frames.find((f: any) => f.type === "exec" && f.command === `${P} sync`),
        "exec",
      )) as any;
    const [ea, eb] = await Promise.all([execOf(a.agent), execOf(b.agent)]);
    await answer(a.agent, ea.execution_id, 0, "from a\n");
    await answer(b.agent, eb.execution_id, 2, "from b\n");
    const res = await pending;
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.meta.complete).toBe(true);
    const byNode = Object.fromEntries(res.body.data.executions.map((e: any) => [e.node_id, e]));
    expect(byNode[a.nodeId]).toMatchObject({
      status: "completed",
      exit_code: 0,
      output: "from a\n",
      duration_ms: 1234,
    });
    expect(byNode[b.nodeId]).toMatchObject({
      status: "completed",
      exit_code: 2,
      output: "from b\n",
      hostname: "host-a",
    });
    expect(byNode[a.nodeId].started_at).not.toBeNull();
    // The execution resource has the same timing.
    const one = await api.get(`/api/v1/command_executions/${ea.execution_id}`);
    expect(one.body.data.duration_ms).toBe(1234);
  });

  it("answers when the wait is up with meta.complete false and the executions as they stand", async () => {
    const a = await online();
    const t0 = Date.now();
    const res = await api.post("/api/v1/commands", {
      command_text: `${P} slow`,
      targeting: { type: "nodes", node_ids: [a.nodeId] },
      wait_seconds: 1,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    expect(res.body.meta.complete).toBe(false);
    expect(res.body.data.executions).toHaveLength(1);
    expect(["pending", "sent"]).toContain(res.body.data.executions[0].status);
  });

  it("answers from the node's session exactly what libSQL then holds, and leaves no waiter behind", async () => {
    const a = await online();
    const pending = api.post("/api/v1/commands", {
      command_text: `${P} session`,
      targeting: { type: "nodes", node_ids: [a.nodeId] },
      wait_seconds: 10,
    });
    const exec = (await a.agent.until(
      () => a.agent.frames.find((f: any) => f.type === "exec" && f.command === `${P} session`),
      "exec",
    )) as any;
    // While the request waits, the session holds one waiter for it.
    await eventually(async () => expect((await stubFor(a.nodeId).state()).sync_waiters).toBe(1));
    await answer(a.agent, exec.execution_id, 3, "x".repeat(100));
    const res = await pending;
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.meta.complete).toBe(true);
    const [answered] = res.body.data.executions;
    const stored = await api.get(`/api/v1/command_executions/${exec.execution_id}`);
    const fields = ["id", "node_id", "status", "exit_code", "output", "started_at", "duration_ms"];
    // The execution resource has no hostname: the node's, as targeting read it.
    expect(answered).toEqual({
      ...Object.fromEntries(fields.map((f) => [f, stored.body.data[f]])),
      hostname: "host-a",
    });
    expect((await stubFor(a.nodeId).state()).sync_waiters).toBe(0);
  });

  it("notices an execution that ends without a result (expired) while waiting in the session", async () => {
    const a = await online();
    const t0 = Date.now();
    const pending = api.post("/api/v1/commands", {
      command_text: `${P} expires`,
      targeting: { type: "nodes", node_ids: [a.nodeId] },
      wait_seconds: 20,
    });
    const exec = (await a.agent.until(
      () => a.agent.frames.find((f: any) => f.type === "exec" && f.command === `${P} expires`),
      "exec",
    )) as any;
    // The agent never answers; the row expires through the cron, which no session sees.
    await db.run(sql`UPDATE command_executions SET expired_at = 1 WHERE id = ${exec.execution_id}`);
    await runCronTick(api.env);
    const res = await pending;
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(res.body.meta.complete).toBe(true);
    expect(res.body.data.executions).toMatchObject([{ id: exec.execution_id, status: "expired" }]);
  });

  it("refuses wait_seconds outside 1–60 and max_errors without max_concurrency", async () => {
    const a = await online();
    for (const body of [
      { wait_seconds: 0 },
      { wait_seconds: 61 },
      { max_errors: 1 },
      { max_concurrency: "0%" },
      { max_concurrency: 0 },
    ]) {
      const res = await api.post("/api/v1/commands", {
        command_text: `${P} bad`,
        targeting: { type: "nodes", node_ids: [a.nodeId] },
        ...body,
      });
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(Object.keys(res.body.error.details)).toEqual([Object.keys(body)[0]]);
    }
  });
});

describe("hostname targeting", () => {
  it("targets every node of a hostname, skips unknown ones, and says both in meta.warnings", async () => {
    const a = await online();
    const b = await online();
    const c = await online();
    const shared = `${P}-shared`;
    await setHostname(a.nodeId, shared);
    await setHostname(b.nodeId, shared.toUpperCase());
    await setHostname(c.nodeId, `${P}-solo`);
    const res = await api.post("/api/v1/commands", {
      command_text: `${P} by name`,
      targeting: { type: "hostnames", hostnames: [shared, `${P}-solo`, `${P}-nowhere`] },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.data.targeting.type).toBe("hostnames");
    const targets = (await executionsOf(res.body.data.id)).map((e) => e.node_id).sort();
    expect(targets).toEqual([a.nodeId, b.nodeId, c.nodeId].sort());
    expect(res.body.meta.warnings).toEqual([
      `hostnames matching no node (skipped): ${P}-nowhere`,
      `hostname ${shared} matches 2 nodes; all of them are targeted`,
    ]);
  });

  it("is a 422 when no hostname matches, and needs its list", async () => {
    const none = await api.post("/api/v1/commands", {
      command_text: `${P} none`,
      targeting: { type: "hostnames", hostnames: [`${P}-ghost`] },
    });
    expect(none.status).toBe(422);
    const missing = await api.post("/api/v1/commands", {
      command_text: "x",
      targeting: { type: "hostnames" },
    });
    expect(missing.status).toBe(422);
    expect(missing.body.error.details["targeting.hostnames"]).toBeDefined();
  });
});

async function readStream(res: Response) {
  const text = await res.text();
  return text
    .split("\n\n")
    .filter(Boolean)
    .map((block) => {
      const fields = Object.fromEntries(
        block
          .split("\n")
          .map((line) => [line.slice(0, line.indexOf(":")), line.slice(line.indexOf(":") + 2)]),
      );
      return { id: fields.id, event: fields.event, data: JSON.parse(fields.data ?? "null") };
    });
}

describe("GET /api/v1/commands/{id}/stream", () => {
  it("carries every execution's states with ids, ends, and resumes after Last-Event-ID without repeats", async () => {
    const a = await online();
    const b = await online();
    const res = await api.post("/api/v1/commands", {
      command_text: `${P} streamed`,
      targeting: { type: "nodes", node_ids: [a.nodeId, b.nodeId] },
    });
    const [ea, eb] = await executionsOf(res.body.data.id);
    const byNode = new Map([
      [ea.node_id, ea],
      [eb.node_id, eb],
    ]);
    await answer(a.agent, byNode.get(a.nodeId).id, 0, "out a");
    await answer(b.agent, byNode.get(b.nodeId).id, 1, "out b");

    const whole = await readStream(await api.fetch(`/api/v1/commands/${res.body.data.id}/stream`));
    const updates = whole.filter((e) => e.event === "execution");
    expect(whole.at(-1)?.event).toBe("end");
    const finals = updates.filter((e) => e.data.status === "completed");
    expect(finals.map((e) => e.data.output).sort()).toEqual(["out a", "out b"]);
    expect(finals.every((e) => e.data.hostname === "host-a" && e.data.node_id)).toBe(true);
    expect(updates.every((e) => typeof e.id === "string" && e.id.length > 0)).toBe(true);

    const resumed = await readStream(
      await api.fetch(`/api/v1/commands/${res.body.data.id}/stream`, {
        headers: { "last-event-id": updates[0]?.id ?? "" },
      }),
    );
    expect(resumed.filter((e) => e.event === "execution").map((e) => e.id)).toEqual(
      updates.slice(1).map((e) => e.id),
    );
  });

  it("the per-execution live stream has id: lines and resumes after Last-Event-ID", async () => {
    const a = await online();
    const res = await api.post("/api/v1/commands", {
      command_text: `${P} live`,
      targeting: { type: "nodes", node_ids: [a.nodeId] },
    });
    const [e] = await executionsOf(res.body.data.id);
    await waitFrame(a.agent, "exec", e.id);
    for (const [seq, chunk] of ["one\n", "two\n", "three\n"].entries())
      a.agent.send({ type: "output", execution_id: e.id, seq, chunk });
    // The chunks reach the session's buffer: a fresh stream replays all three with ids 1–3.
    const url = `/api/v1/command_executions/${e.id}/stream`;
    const first = await api.fetch(url);
    const reader = first.body!.getReader();
    let seen = "";
    while (!seen.includes("three")) seen += new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();
    expect(seen).toContain("id: 1\nevent: output");
    expect(seen).toContain("id: 3\nevent: output");

    const resumed = await api.fetch(url, { headers: { "last-event-id": "2" } });
    await answer(a.agent, e.id, 0, "one\ntwo\nthree\n");
    const events = await readStream(resumed);
    expect(events.map((x) => [x.id, x.event, x.data?.chunk])).toEqual([
      ["3", "output", "three\n"],
      [undefined, "end", undefined],
    ]);
  });

  it("relays a running execution's output chunks as they arrive, tagged, and resumes after an output event", async () => {
    const a = await online();
    const res = await api.post("/api/v1/commands", {
      command_text: `${P} live on the command stream`,
      targeting: { type: "nodes", node_ids: [a.nodeId] },
    });
    const url = `/api/v1/commands/${res.body.data.id}/stream`;
    const [e] = await executionsOf(res.body.data.id);
    await waitFrame(a.agent, "exec", e.id);

    // Reads `res` until `text` has arrived; what was read so far is returned parsed.
    const follow = (res: Response) => {
      const reader = res.body!.getReader();
      let seen = "";
      return {
        async until(text: string) {
          while (!seen.includes(text)) {
            const { value, done } = await reader.read();
            if (done) throw new Error(`stream ended before ${text}: ${seen}`);
            seen += new TextDecoder().decode(value);
          }
          return readStream(new Response(seen.slice(0, seen.lastIndexOf("\n\n") + 2)));
        },
        stop: () => reader.cancel(),
      };
    };

    const first = follow(await api.fetch(url));
    a.agent.send({ type: "output", execution_id: e.id, seq: 0, chunk: "one\n" });
    await first.until('"chunk":"one\\n"');
    // Live: the chunk arrived while the execution is still running.
    expect((await api.get(`/api/v1/command_executions/${e.id}`)).body.data.status).toBe("sent");
    a.agent.send({ type: "output", execution_id: e.id, seq: 1, chunk: "two\n" });
    const events = await first.until('"chunk":"two\\n"');
    await first.stop();
    const outputs = events.filter((x) => x.event === "output");
    expect(outputs.map((x) => x.data)).toEqual([
      { execution_id: e.id, node_id: a.nodeId, hostname: "host-a", seq: 1, chunk: "one\n" },
      { execution_id: e.id, node_id: a.nodeId, hostname: "host-a", seq: 2, chunk: "two\n" },
    ]);
    // The `sent` state comes first, then the chunks, each with its own id.
    expect(events[0]).toMatchObject({ event: "execution", data: { status: "sent" } });
    expect(new Set(events.map((x) => x.id)).size).toBe(events.length);

    // Resumed after "one": "two" again is the next thing, then what comes on, without repeats.
    const resumed = follow(await api.fetch(url, { headers: { "last-event-id": outputs[0]!.id } }));
    a.agent.send({ type: "output", execution_id: e.id, seq: 2, chunk: "three\n" });
    await resumed.until('"chunk":"three\\n"');
    await answer(a.agent, e.id, 0, "one\ntwo\nthree\n");
    const rest = await resumed.until("event: end");
    expect(rest.filter((x) => x.event === "output").map((x) => x.data.chunk)).toEqual(["two\n", "three\n"]);
    expect(rest.filter((x) => x.event === "execution").map((x) => [x.data.status, x.data.output])).toEqual([
      ["completed", "one\ntwo\nthree\n"],
    ]);
    expect(rest.at(-1)?.event).toBe("end");
  });

  it("is a 404 for an unknown command", async () => {
    const res = await api.get(`/api/v1/commands/${crypto.randomUUID()}/stream`);
    expect(res.status).toBe(404);
  });
});

describe("rollouts (max_concurrency, max_errors)", () => {
  async function fleet(n: number) {
    const agents = [];
    for (let i = 0; i < n; i++) agents.push(await online());
    return agents;
  }

  async function rollout(nodeIds: string[], extra: object) {
    const res = await api.post("/api/v1/commands", {
      command_text: `${P} rollout ${crypto.randomUUID()}`,
      targeting: { type: "nodes", node_ids: nodeIds },
      ...extra,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const executions = await executionsOf(res.body.data.id);
    const byNode = new Map(executions.map((e) => [e.node_id as string, e.id as string]));
    return { command: res.body.data, byNode };
  }

  const sentTo = (agent: Agent, id: string) => framesFor(agent, "exec", id).length > 0;

  it("runs at most max_concurrency at once and advances in node order as each finishes", async () => {
    const nodes = await fleet(3);
    const { command, byNode } = await rollout(
      nodes.map((n) => n.nodeId),
      { max_concurrency: 1 },
    );
    expect(command.rollout).toMatchObject({
      max_concurrency: "1",
      concurrency_limit: 1,
      status: "running",
      order: "oldest",
    });
    const [n0, n1, n2] = nodes as [(typeof nodes)[0], (typeof nodes)[0], (typeof nodes)[0]];
    const id = (n: (typeof nodes)[0]) => byNode.get(n.nodeId) as string;

    await waitFrame(n0.agent, "exec", id(n0));
    await new Promise((r) => setTimeout(r, 300));
    expect(sentTo(n1.agent, id(n1))).toBe(false);
    expect(sentTo(n2.agent, id(n2))).toBe(false);

    await answer(n0.agent, id(n0), 0, "ok");
    await waitFrame(n1.agent, "exec", id(n1));
    expect(sentTo(n2.agent, id(n2))).toBe(false);
    await answer(n1.agent, id(n1), 0, "ok");
    await answer(n2.agent, id(n2), 0, "ok");
    await eventually(async () => expect((await readCommand(command.id)).rollout.status).toBe("completed"));
  });

  it("stops once failures exceed max_errors: the waiting executions are cancelled with a reason", async () => {
    const nodes = await fleet(3);
    const { command, byNode } = await rollout(
      nodes.map((n) => n.nodeId),
      { max_concurrency: "34%", max_errors: 0 },
    );
    expect(command.rollout).toMatchObject({ concurrency_limit: 1, error_limit: 0 });
    const first = nodes[0] as (typeof nodes)[0];
    await answer(first.agent, byNode.get(first.nodeId) as string, 1, "boom");
    await eventually(async () => expect((await readCommand(command.id)).rollout.status).toBe("stopped"));
    const after = await readCommand(command.id);
    expect(after.rollout.reason).toMatch(/1 executions failed, more than max_errors \(0\)/);
    const rest = (await executionsOf(command.id)).filter((e) => e.node_id !== first.nodeId);
    expect(rest.map((e) => e.status)).toEqual(["cancelled", "cancelled"]);
    expect(rest[0].output).toMatch(/rollout stopped/);
    for (const n of nodes.slice(1)) expect(sentTo(n.agent, byNode.get(n.nodeId) as string)).toBe(false);
    const summary = await api.get(`/api/v1/commands/${command.id}/summary`);
    expect(summary.body.data.rollout).toMatchObject({ status: "stopped", error_limit: 0 });
    expect(summary.body.data.counts).toMatchObject({ completed: 1, cancelled: 2 });
    // The list finds it by its rollout status.
    const listed = await api.get(`/api/v1/commands?rollout_status=stopped&page_size=100`);
    expect(listed.body.data.map((c: any) => c.id)).toContain(command.id);
  });

  it("over 8 nodes with max_concurrency 2 never has more than 2 live, and stops after max_errors 1", async () => {
    const nodes = await fleet(8);
    const { command, byNode } = await rollout(
      nodes.map((n) => n.nodeId),
      { max_concurrency: 2, max_errors: 1 },
    );
    // The agents answer each exec they get; the 3rd and 5th in rollout order fail.
    const order = nodes.map((n) => ({ agent: n.agent, id: byNode.get(n.nodeId) as string }));
    let live = 0;
    let peak = 0;
    const answered = new Set<string>();
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      const c = await readCommand(command.id);
      if (c.rollout.status !== "running") break;
      const got = order.filter((o) => !answered.has(o.id) && framesFor(o.agent, "exec", o.id).length > 0);
      for (const o of got) {
        // Delivered so far minus results written (each acked after its write): at most the window.
        live = order.filter((x) => framesFor(x.agent, "exec", x.id).length > 0).length - answered.size;
        peak = Math.max(peak, live);
        const rank = order.indexOf(o);
        await answer(o.agent, o.id, rank === 2 || rank === 4 ? 1 : 0, "x");
        answered.add(o.id);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(peak).toBeLessThanOrEqual(2);
    const final = await readCommand(command.id);
    expect(final.rollout.status).toBe("stopped");
    const statuses = (await executionsOf(command.id)).map((e) => e.status);
    expect(statuses.filter((s) => s === "completed").length).toBeLessThanOrEqual(6);
    expect(statuses.filter((s) => s === "cancelled").length).toBeGreaterThanOrEqual(2);
  });

  it("cancelling a released execution that waits for its offline node frees its slot at once", async () => {
    const nodes = await fleet(2);
    const [n0, n1] = nodes as [(typeof nodes)[0], (typeof nodes)[0]];
    await db.run(sql`UPDATE nodes SET status = 'unreachable' WHERE id = ${n0.nodeId}`);
    const { byNode } = await rollout([n0.nodeId, n1.nodeId], { max_concurrency: 1 });
    const first = byNode.get(n0.nodeId) as string;
    const second = byNode.get(n1.nodeId) as string;
    const cancelled = await api.patch(`/api/v1/command_executions/${first}/cancel`, {});
    expect(cancelled.body.data.result).toBe("cancelled");
    await waitFrame(n1.agent, "exec", second);
  });

  it("pauses, resumes and cancels; the cron moves a rollout on when a session did not", async () => {
    const nodes = await fleet(3);
    const { command, byNode } = await rollout(
      nodes.map((n) => n.nodeId),
      { max_concurrency: 1 },
    );
    const [n0, n1, n2] = nodes as [(typeof nodes)[0], (typeof nodes)[0], (typeof nodes)[0]];
    const id = (n: (typeof nodes)[0]) => byNode.get(n.nodeId) as string;
    const paused = await api.patch(`/api/v1/commands/${command.id}/rollout/pause`, {});
    expect(paused.status, JSON.stringify(paused.body)).toBe(200);
    expect(paused.body.data.rollout.status).toBe("paused");
    expect((await api.patch(`/api/v1/commands/${command.id}/rollout/pause`, {})).status).toBe(409);

    await answer(n0.agent, id(n0), 0, "ok");
    await new Promise((r) => setTimeout(r, 300));
    expect(sentTo(n1.agent, id(n1))).toBe(false);

    // A held row released behind the sessions' back (as after a lost advance): resume delivers it.
    const resumed = await api.patch(`/api/v1/commands/${command.id}/rollout/resume`, {});
    expect(resumed.body.data.rollout.status).toBe("running");
    await waitFrame(n1.agent, "exec", id(n1));

    // The cron's pass releases when no result triggers it: n1's row is cancelled directly.
    await db.run(
      sql`UPDATE command_executions SET status = 'cancelled', cancelled_at = 1 WHERE id = ${id(n1)}`,
    );
    await runCronTick(api.env);
    await waitFrame(n2.agent, "exec", id(n2));

    const cancelled = await api.patch(`/api/v1/commands/${command.id}/rollout/cancel`, {});
    expect(cancelled.body.data.rollout).toMatchObject({
      status: "cancelled",
      reason: "rollout cancelled by request",
    });
    const plain = await api.post("/api/v1/commands", {
      command_text: `${P} plain`,
      targeting: { type: "nodes", node_ids: [n0.nodeId] },
    });
    expect(plain.body.data.rollout).toBeNull();
    expect((await api.patch(`/api/v1/commands/${plain.body.data.id}/rollout/cancel`, {})).status).toBe(409);
  });
});

describe("typed node actions (power, services, containers)", () => {
  it("a reboot needs confirm, goes to the agent as a scheduling script, and its expiry is 5 min past the schedule", async () => {
    const a = await online();
    const path = `/api/v1/nodes/${a.nodeId}/power_actions`;
    const unconfirmed = await api.post(path, { action: "reboot" });
    expect(unconfirmed.status).toBe(422);
    expect(unconfirmed.body.error.details.confirm).toBeDefined();
    expect((await api.post(path, { action: "reboot", confirm: true, message: "two\nlines" })).status).toBe(
      422,
    );

    const t0 = Date.now();
    const res = await api.post(path, { action: "reboot", confirm: true, delay_seconds: 120, force: true });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const pa = res.body.data;
    expect(pa).toMatchObject({
      action: "reboot",
      node_id: a.nodeId,
      status: "pending",
      force: true,
      delay_seconds: 120,
    });
    expect(pa.unit).toBe(`outpost-power-${pa.id}`);
    const scheduled = Date.parse(pa.scheduled_at);
    expect(scheduled).toBeGreaterThanOrEqual(Math.floor(t0 / 1000) * 1000 + 119_000);
    const exec = (await api.get(`/api/v1/command_executions/${pa.execution_id}`)).body.data;
    expect(Date.parse(exec.expired_at) - scheduled).toBeGreaterThanOrEqual(299_000);
    await waitFrame(a.agent, "exec", pa.execution_id);
    const frame = framesFor(a.agent, "exec", pa.execution_id)[0] as any;
    expect(frame.command).toContain(
      `--on-active=120s --unit=${pa.unit} "\${OUTPOST_SYSTEMCTL:-systemctl}" reboot --force`,
    );
    expect((await readCommand(pa.command_id)).command_text).toBe(frame.command);

    // The agent scheduled it: scheduled until due, listed by node and status, cancellable.
    await answer(a.agent, pa.execution_id, 0, `reboot scheduled in 120s as ${pa.unit}.timer`);
    await eventually(async () =>
      expect((await api.get(`/api/v1/power_actions/${pa.id}`)).body.data.status).toBe("scheduled"),
    );
    const listed = await api.get(`/api/v1/power_actions?node_id=${a.nodeId}&status=scheduled&action=reboot`);
    expect(listed.status, JSON.stringify(listed.body)).toBe(200);
    expect(listed.body.data.map((x: any) => x.id)).toEqual([pa.id]);
    const cancelled = await api.patch(`/api/v1/power_actions/${pa.id}/cancel`, {});
    expect(cancelled.status, JSON.stringify(cancelled.body)).toBe(200);
    expect(cancelled.body.data.status).toBe("cancelled");
    await a.agent.until(
      () => a.agent.frames.find((f: any) => f.type === "exec" && f.command.includes(`stop ${pa.unit}.timer`)),
      "the timer stopped",
    );
    expect((await api.patch(`/api/v1/power_actions/${pa.id}/cancel`, {})).status).toBe(409);
  });

  it("a reboot is confirmed by the next hello with another boot id", async () => {
    const a = await online();
    await db.run(sql`UPDATE nodes SET boot_id = 'boot-before' WHERE id = ${a.nodeId}`);
    const res = await api.post(`/api/v1/nodes/${a.nodeId}/power_actions`, {
      action: "reboot",
      confirm: true,
      delay_seconds: 0,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    await answer(a.agent, res.body.data.execution_id, 0, "scheduled");
    // A reconnect from the same boot confirms nothing; one from a new boot does.
    const again = await connectAgent(api, a.token);
    again.send({ ...HELLO, boot_id: "boot-before" });
    await again.next("config");
    expect((await api.get(`/api/v1/power_actions/${res.body.data.id}`)).body.data.status).not.toBe(
      "completed",
    );
    const rebooted = await connectAgent(api, a.token);
    rebooted.send({ ...HELLO, boot_id: "boot-after" });
    await rebooted.next("config");
    const done = (await api.get(`/api/v1/power_actions/${res.body.data.id}`)).body.data;
    expect(done).toMatchObject({ status: "completed", previous_boot_id: "boot-before" });
    expect(done.confirmed_at).not.toBeNull();
    expect(done.downtime_seconds).toBeGreaterThanOrEqual(0);
  });

  it("an unreachable node is a 503 unless queue: true; a queued one is cancelled without reaching the node", async () => {
    const a = await online();
    await db.run(sql`UPDATE nodes SET status = 'unreachable' WHERE id = ${a.nodeId}`);
    const path = `/api/v1/nodes/${a.nodeId}/power_actions`;
    expect((await api.post(path, { action: "shutdown", confirm: true })).status).toBe(503);
    const queued = await api.post(path, { action: "shutdown", confirm: true, queue: true, delay_seconds: 0 });
    expect(queued.status, JSON.stringify(queued.body)).toBe(201);
    expect(queued.body.data.status).toBe("pending");
    const cancelled = await api.patch(`/api/v1/power_actions/${queued.body.data.id}/cancel`, {});
    expect(cancelled.body.data.status).toBe("cancelled");
    expect(
      (await api.get(`/api/v1/command_executions/${queued.body.data.execution_id}`)).body.data.status,
    ).toBe("cancelled");
    expect(
      (
        await api.post(`/api/v1/nodes/${crypto.randomUUID()}/power_actions`, {
          action: "reboot",
          confirm: true,
        })
      ).status,
    ).toBe(404);
  });

  it("the fleet form schedules one power action per targeted node in one command; an offline target is a 503", async () => {
    const a = await online();
    const b = await online();
    const name = `${P}-fleet`;
    await setHostname(a.nodeId, name);
    await setHostname(b.nodeId, name);
    const body = {
      targeting: { type: "hostnames", hostnames: [name] },
      action: "reboot",
      confirm: true,
      delay_seconds: 300,
    };
    const res = await api.post("/api/v1/power_actions", body);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.data.map((x: any) => x.node_id).sort()).toEqual([a.nodeId, b.nodeId].sort());
    expect(new Set(res.body.data.map((x: any) => x.command_id)).size).toBe(1);
    expect(res.body.meta.warnings).toEqual([`hostname ${name} matches 2 nodes; all of them are targeted`]);
    await Promise.all(
      res.body.data.map((x: any) =>
        waitFrame([a, b].find((n) => n.nodeId === x.node_id)!.agent, "exec", x.execution_id),
      ),
    );

    await db.run(sql`UPDATE nodes SET status = 'unreachable' WHERE id = ${b.nodeId}`);
    const refused = await api.post("/api/v1/power_actions", body);
    expect(refused.status).toBe(503);
    expect(refused.body.error.details.node_ids).toEqual([b.nodeId]);
    const queued = await api.post("/api/v1/power_actions", { ...body, queue: true });
    expect(queued.status).toBe(201);
    expect(queued.body.data).toHaveLength(2);
  });

  it("service and container actions validate the name and send systemctl / docker with it quoted after --", async () => {
    const a = await online();
    const svc = await api.post(`/api/v1/nodes/${a.nodeId}/services/nginx.service/actions`, {
      action: "restart",
    });
    expect(svc.status, JSON.stringify(svc.body)).toBe(201);
    expect(svc.body.data).toMatchObject({ kind: "service", action: "restart", target: "nginx.service" });
    await waitFrame(a.agent, "exec", svc.body.data.execution_id);
    expect((framesFor(a.agent, "exec", svc.body.data.execution_id)[0] as any).command).toBe(
      `"\${OUTPOST_SYSTEMCTL:-systemctl}" restart -- 'nginx.service'`,
    );
    const bad = await api.post(
      `/api/v1/nodes/${a.nodeId}/services/${encodeURIComponent("x;reboot")}/actions`,
      {
        action: "stop",
      },
    );
    expect(bad.status).toBe(400);
    expect(
      (await api.post(`/api/v1/nodes/${a.nodeId}/services/nginx.service/actions`, { action: "mask" })).status,
    ).toBe(422);

    const ctr = await api.post(`/api/v1/nodes/${a.nodeId}/containers/web_1/actions`, {
      action: "stop",
      timeout_seconds: 7,
    });
    expect(ctr.status, JSON.stringify(ctr.body)).toBe(201);
    await waitFrame(a.agent, "exec", ctr.body.data.execution_id);
    expect((framesFor(a.agent, "exec", ctr.body.data.execution_id)[0] as any).command).toBe(
      `"\${OUTPOST_DOCKER:-docker}" stop -t 7 -- 'web_1'`,
    );
  });
});
