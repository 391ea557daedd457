// Orchestrated reboots (C10) through the real Worker and the parent's NodeSession, with a scripted
// agent on a real WebSocket: the precheck from the `children` inventory section, the 400/409/422
// rules, every state in order driven by the session's alarm, cancel with the stopped children
// started again, and a failed stop.
import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { connectAgent, enrolNode } from "./agent-session";
import {
  type Agent,
  api,
  db,
  LIVE,
  setUpExecutions,
  startExecutionsFile,
  waitFrame,
} from "./executions-fixture";

startExecutionsFile();

beforeAll(() => setUpExecutions());

const CHILDREN = [
  { id: "lxd:web", child_name: "web", child_type: "lxd", status: "running", autostart: true },
  { id: "docker:db", child_name: "db", child_type: "docker", status: "running", autostart: null },
  { id: "libvirt:old", child_name: "old", child_type: "libvirt", status: "stopped", autostart: null },
];

function hello(agent: Agent, bootId: string) {
  agent.send({
    type: "hello",
    agent_version: "1.2.3",
    hostname: "parent",
    platform: "linux",
    capabilities: [],
    heartbeat_interval_seconds: 15,
    boot_id: bootId,
  });
}

/** A connected parent whose stored inventory lists `children`. */
async function parent(children: object[] = CHILDREN) {
  const { nodeId, token } = await enrolNode(api, LIVE);
  const agent = await connectAgent(api, token);
  hello(agent, "boot-1");
  await agent.next("config");
  await db.run(sql`INSERT INTO node_inventory (node_id, section, status, reason, content_hash, data, collected_at, updated_at)
    VALUES (${nodeId}, 'children', 'ok', NULL, 'h', ${JSON.stringify({ children, engines: ["lxd", "docker", "libvirt"] })}, ${Date.now()}, ${Date.now()})`);
  return { nodeId, token, agent };
}

async function orchestration(id: string) {
  const res = await api.get(`/api/v1/reboot_orchestrations/${id}`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.data;
}

/** Retries `read` until it stops throwing (an expect failing), up to `timeoutMs`; returns its value. */
async function eventually<T>(read: () => Promise<T>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await read();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

const waitStatus = (id: string, status: string) =>
  eventually(async () => {
    const o = await orchestration(id);
    expect(o.status).toBe(status);
    return o;
  }, 15_000);

/** The next exec frame on `agent` whose command contains `text`, answered with `exitCode` and `output`. */
async function answerExec(agent: Agent, text: string, exitCode: number, output: string) {
  const exec = (await agent.until(
    () => agent.frames.find((f: any) => f.type === "exec" && f.command.includes(text) && !f.answered),
    `an exec containing ${text}`,
    15_000,
  )) as any;
  exec.answered = true;
  const now = Date.now();
  agent.send({
    type: "result",
    execution_id: exec.execution_id,
    exit_code: exitCode,
    output,
    truncated: false,
    started_at: now - 10,
    finished_at: now,
  });
  await waitFrame(agent, "ack", exec.execution_id);
  return exec;
}

async function eventsOf(id: string) {
  return db.all<{ type: string; data: string }>(
    sql`SELECT type, data FROM events WHERE type LIKE 'edge.reboot_orchestration.%' AND json_extract(data, '$.orchestration_id') = ${id}`,
  );
}

describe("reboot precheck", () => {
  it("lists the running children from the node's children inventory", async () => {
    const { nodeId } = await parent();
    const res = await api.get(`/api/v1/nodes/${nodeId}/reboot_precheck`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.data).toMatchObject({
      has_running_children: true,
      running_count: 2,
      total_children: 3,
      has_container_engine: true,
    });
    expect(res.body.data.running_children).toEqual([
      { id: "lxd:web", child_name: "web", child_type: "lxd", status: "running" },
      { id: "docker:db", child_name: "db", child_type: "docker", status: "running" },
    ]);
  });

  it("says no children and no engine for a node that never reported them, and 404s an unknown node", async () => {
    const { nodeId } = await enrolNode(api, LIVE);
    const res = await api.get(`/api/v1/nodes/${nodeId}/reboot_precheck`);
    expect(res.body.data).toMatchObject({
      has_running_children: false,
      running_count: 0,
      total_children: 0,
      has_container_engine: false,
      reported_at: null,
    });
    expect((await api.get(`/api/v1/nodes/${crypto.randomUUID()}/reboot_precheck`)).status).toBe(404);
  });
});

describe("starting an orchestration", () => {
  it("is a 400 when the node's agent is not connected or no child runs, 422 for a bad body", async () => {
    const { nodeId: offline } = await enrolNode(api, LIVE);
    const res = await api.post(`/api/v1/nodes/${offline}/reboot_orchestrations`, {});
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.error.details.node_status).toEqual(["unreachable"]);

    const { nodeId: idle } = await parent([CHILDREN[2]]);
    const none = await api.post(`/api/v1/nodes/${idle}/reboot_orchestrations`, {});
    expect(none.status, JSON.stringify(none.body)).toBe(400);
    expect(none.body.error.message).toMatch(/No running child hosts/);

    const bad = await api.post(`/api/v1/nodes/${idle}/reboot_orchestrations`, {
      shutdown_timeout_seconds: 0,
    });
    expect(bad.status).toBe(422);
    expect(bad.body.error.details.shutdown_timeout_seconds).toBeDefined();
    expect((await api.post(`/api/v1/nodes/${crypto.randomUUID()}/reboot_orchestrations`, {})).status).toBe(
      404,
    );
  });

  it("refuses a second orchestration of the same node with 409", async () => {
    const { nodeId, agent } = await parent();
    const first = await api.post(`/api/v1/nodes/${nodeId}/reboot_orchestrations`, {});
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    const second = await api.post(`/api/v1/nodes/${nodeId}/reboot_orchestrations`, {});
    expect(second.status, JSON.stringify(second.body)).toBe(409);
    // Cleanup: cancelled, so the stop step never runs.
    expect((await api.patch(`/api/v1/reboot_orchestrations/${first.body.data.id}/cancel`, {})).status).toBe(
      200,
    );
    agent.ws.close();
  });
});

describe("an orchestration walks every state", () => {
  it("stops the running children, reboots, waits for a new boot id, starts only those that ran", async () => {
    const { nodeId, token, agent } = await parent();
    const res = await api.post(`/api/v1/nodes/${nodeId}/reboot_orchestrations`, {
      shutdown_timeout_seconds: 30,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const created = res.body.data;
    expect(created).toMatchObject({
      node_id: nodeId,
      child_count: 2,
      shutdown_timeout_seconds: 30,
      force_stop_on_timeout: false,
      initiated_by: "API_KEY",
      error_message: null,
    });
    expect(created.child_hosts_snapshot.map((c: any) => [c.id, c.pre_reboot_status])).toEqual([
      ["lxd:web", "running"],
      ["docker:db", "running"],
    ]);
    const id = created.id;
    const seen: string[] = [created.status];

    // The stop step: `db` had already stopped by itself.
    const stop = await answerExec(
      agent,
      "stop_child",
      0,
      "outpost-child 0 stopped\noutpost-child 1 not_running stopped\n",
    );
    expect(stop.command).toContain('stop --timeout "$2" "$1"');
    expect(stop.command).toMatch(/stop_child lxd 0 'web'/);
    seen.push("shutting_down");
    const rebooting = await waitStatus(id, "rebooting");
    seen.push("rebooting");
    expect(rebooting.shutdown_completed_at).not.toBeNull();
    expect(rebooting.child_hosts_restart_status.map((c: any) => c.restart_status)).toEqual([
      "pending",
      "skipped",
    ]);

    // The reboot step is a power action; the agent reports it scheduled.
    await answerExec(agent, "systemd-run", 0, "reboot scheduled\n");
    const waiting = await waitStatus(id, "waiting_for_agent");
    seen.push("waiting_for_agent");
    expect(waiting.reboot_issued_at).not.toBeNull();
    const pa = await api.get(`/api/v1/power_actions/${waiting.power_action_id}`);
    expect(pa.body.data).toMatchObject({ action: "reboot", node_id: nodeId });

    // The machine goes down and comes back with another boot id.
    agent.ws.close();
    const back = await connectAgent(api, token);
    hello(back, "boot-2");
    await back.next("config");
    const start = await answerExec(back, "start_child", 0, "outpost-child 0 running\n");
    expect(start.command).toMatch(/start_child lxd 0 'web'/);
    expect(start.command).not.toMatch(/'db'/);
    seen.push("restarting_children");
    const done = await waitStatus(id, "completed");
    seen.push("completed");
    expect(seen).toEqual([
      "pending",
      "shutting_down",
      "rebooting",
      "waiting_for_agent",
      "restarting_children",
      "completed",
    ]);
    expect(done.agent_reconnected_at).not.toBeNull();
    expect(done.restart_completed_at).not.toBeNull();
    expect(done.child_hosts_restart_status).toEqual([
      { id: "lxd:web", child_name: "web", restart_status: "running", error: null },
      {
        id: "docker:db",
        child_name: "db",
        restart_status: "skipped",
        error: "was not running when the shutdown began",
      },
    ]);
    const events = await eventsOf(id);
    expect(events.map((e) => e.type)).toEqual(["edge.reboot_orchestration.completed"]);
    expect(JSON.parse(events[0]!.data)).toMatchObject({
      node_id: nodeId,
      child_count: 2,
      failed_children: 0,
    });
    // The one in flight is over: the node can be orchestrated again, and the list filters find it.
    const list = await api.get(`/api/v1/reboot_orchestrations?node_id=${nodeId}&status=completed`);
    expect(list.body.data.map((o: any) => o.id)).toEqual([id]);
    expect((await api.patch(`/api/v1/reboot_orchestrations/${id}/cancel`, {})).status).toBe(409);
    back.ws.close();
  });

  it("a child that fails to start is recorded and does not fail the others", async () => {
    const { nodeId, token, agent } = await parent();
    const id = (await api.post(`/api/v1/nodes/${nodeId}/reboot_orchestrations`, {})).body.data.id;
    await answerExec(agent, "stop_child", 0, "outpost-child 0 stopped\noutpost-child 1 stopped\n");
    await answerExec(agent, "systemd-run", 0, "reboot scheduled\n");
    await waitStatus(id, "waiting_for_agent");
    agent.ws.close();
    const back = await connectAgent(api, token);
    hello(back, "boot-2");
    await back.next("config");
    await answerExec(
      back,
      "start_child",
      0,
      "outpost-child 0 failed image missing\noutpost-child 1 running\n",
    );
    const done = await waitStatus(id, "completed");
    expect(done.child_hosts_restart_status.map((c: any) => [c.restart_status, c.error])).toEqual([
      ["failed", "image missing"],
      ["running", null],
    ]);
    expect(JSON.parse((await eventsOf(id))[0]!.data).failed_children).toBe(1);
    back.ws.close();
  });
});

describe("cancel and failure before the reboot", () => {
  it("cancel while shutting down starts the stopped children again; the reboot never goes out", async () => {
    const { nodeId, agent } = await parent();
    const id = (await api.post(`/api/v1/nodes/${nodeId}/reboot_orchestrations`, {})).body.data.id;
    await agent.until(() => agent.frames.find((f: any) => f.type === "exec"), "the stop step", 15_000);
    const cancelled = await api.patch(`/api/v1/reboot_orchestrations/${id}/cancel`, {});
    expect(cancelled.status, JSON.stringify(cancelled.body)).toBe(200);
    expect(cancelled.body.data.status).toBe("cancelled");
    await answerExec(agent, "stop_child", 0, "outpost-child 0 stopped\noutpost-child 1 stopped\n");
    await answerExec(agent, "start_child", 0, "outpost-child 0 running\noutpost-child 1 running\n");
    const done = await eventually(async () => {
      const o = await orchestration(id);
      expect(o.restart_completed_at).not.toBeNull();
      return o;
    }, 15_000);
    expect(done.status).toBe("cancelled");
    expect(done.power_action_id).toBeNull();
    expect(done.child_hosts_restart_status.map((c: any) => c.restart_status)).toEqual(["running", "running"]);
    expect(agent.frames.some((f: any) => f.type === "exec" && f.command.includes("systemd-run"))).toBe(false);
    expect((await api.patch(`/api/v1/reboot_orchestrations/${id}/cancel`, {})).status).toBe(409);
    agent.ws.close();
  });

  it("a stop step that fails fails the orchestration, with its event, and restarts what it stopped", async () => {
    const { nodeId, agent } = await parent();
    const id = (await api.post(`/api/v1/nodes/${nodeId}/reboot_orchestrations`, {})).body.data.id;
    await answerExec(
      agent,
      "stop_child",
      1,
      "outpost-child 0 stopped\noutpost-child 1 failed still running after 120s: busy\n",
    );
    const failed = await waitStatus(id, "failed");
    expect(failed.error_message).toMatch(/stopping the children failed/);
    await answerExec(agent, "start_child", 0, "outpost-child 0 running\noutpost-child 1 already_running\n");
    const done = await eventually(async () => {
      const o = await orchestration(id);
      expect(o.restart_completed_at).not.toBeNull();
      return o;
    }, 15_000);
    expect(done.child_hosts_restart_status.map((c: any) => c.restart_status)).toEqual(["running", "running"]);
    expect((await eventsOf(id)).map((e) => e.type)).toEqual(["edge.reboot_orchestration.failed"]);
    agent.ws.close();
  });
});
