import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { connectAgent, enrolNode } from "./agent-session";
import {
  api,
  db,
  EXECUTION_FIELDS,
  execution,
  framesFor,
  LIVE,
  makeCluster,
  online,
  P,
  run,
  setUpExecutions,
  startExecutionsFile,
  waitFrame,
} from "./executions-fixture";
import { eventually } from "./harness";

startExecutionsFile();

beforeAll(() => setUpExecutions());

describe("delivery through a connected agent", () => {
  it("sends exec to a connected agent and marks the row sent; a result completes it and is acked", async () => {
    const { nodeId, agent } = await online();
    const { command, executions } = await run([nodeId], { timeout: 5000 });
    const [e] = executions;
    await waitFrame(agent, "exec", e.id);
    expect(framesFor(agent, "exec", e.id)[0]).toMatchObject({
      execution_id: e.id,
      command: `${P} echo hi`,
      timeout_ms: 5000,
    });
    await eventually(async () => expect((await execution(e.id)).status).toBe("sent"));
    expect((await execution(e.id)).sent_at).not.toBeNull();

    agent.send({
      type: "result",
      execution_id: e.id,
      exit_code: 3,
      output: "hello\nfailed\n",
      truncated: false,
    });
    await waitFrame(agent, "ack", e.id);
    const done = await execution(e.id);
    expect(Object.keys(done).sort()).toEqual(EXECUTION_FIELDS);
    expect(done).toMatchObject({
      status: "completed",
      exit_code: 3,
      output: "hello\nfailed\n",
      cancelled_at: null,
    });
    expect(done.completed_at).not.toBeNull();

    // A duplicate result changes nothing, and is acked again so the agent can forget it.
    agent.send({ type: "result", execution_id: e.id, exit_code: 0, output: "other", truncated: false });
    await waitFrame(agent, "ack", e.id, 2);
    expect(await execution(e.id)).toEqual(done);

    const summary = await api.get(`/api/v1/commands/${command.id}/summary`);
    expect(summary.body.data).toMatchObject({
      total: 1,
      counts: { pending: 0, sent: 0, completed: 1, cancelled: 0, expired: 0 },
      exit_codes: { "3": 1 },
    });
    agent.ws.close(1000);
  });

  it("keeps the execution pending for an offline node and delivers it after hello", async () => {
    const { nodeId, token } = await enrolNode(api, LIVE);
    const { executions } = await run([nodeId]);
    const [e] = executions;
    expect(e.status).toBe("pending");
    const agent = await connectAgent(api, token);
    agent.hello();
    await waitFrame(agent, "exec", e.id);
    await eventually(async () => expect((await execution(e.id)).status).toBe("sent"));
    agent.ws.close(1000);
  });

  it("cancels a sent execution through the agent: exit 143 after the cancel means cancelled", async () => {
    const { nodeId, agent } = await online();
    const [e] = (await run([nodeId])).executions;
    await waitFrame(agent, "exec", e.id);
    await eventually(async () => expect((await execution(e.id)).status).toBe("sent"));

    const res = await api.patch(`/api/v1/command_executions/${e.id}/cancel`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.data).toEqual({ result: "cancellation request sent" });
    await waitFrame(agent, "cancel", e.id);
    expect((await execution(e.id)).status).toBe("sent");

    agent.send({
      type: "result",
      execution_id: e.id,
      exit_code: 143,
      output: "terminated\n",
      truncated: false,
    });
    await waitFrame(agent, "ack", e.id);
    const cancelled = await execution(e.id);
    expect(cancelled).toMatchObject({ status: "cancelled", exit_code: 143, completed_at: null });
    expect(cancelled.cancelled_at).not.toBeNull();

    const again = await api.patch(`/api/v1/command_executions/${e.id}/cancel`);
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({
      code: "conflict",
      message: "Command execution is already cancelled",
    });
    agent.ws.close(1000);
  });

  it("keeps the agent's real result when it finished before the cancel arrived", async () => {
    const { nodeId, agent } = await online();
    const [e] = (await run([nodeId])).executions;
    await waitFrame(agent, "exec", e.id);
    await eventually(async () => expect((await execution(e.id)).status).toBe("sent"));
    expect((await api.patch(`/api/v1/command_executions/${e.id}/cancel`)).status).toBe(200);
    agent.send({ type: "result", execution_id: e.id, exit_code: 0, output: "done\n", truncated: false });
    await waitFrame(agent, "ack", e.id);
    expect(await execution(e.id)).toMatchObject({ status: "completed", exit_code: 0, cancelled_at: null });
  });

  it("records the cancel of a sent execution whose agent has gone away", async () => {
    const { nodeId, agent } = await online();
    const [e] = (await run([nodeId])).executions;
    await waitFrame(agent, "exec", e.id);
    await eventually(async () => expect((await execution(e.id)).status).toBe("sent"));
    agent.ws.close(1000);
    await eventually(async () =>
      expect((await api.get(`/api/v1/nodes/${nodeId}`)).body.data.status).toBe("unreachable"),
    );
    const res = await api.patch(`/api/v1/command_executions/${e.id}/cancel`);
    expect(res.status).toBe(200);
    expect(res.body.data.result).toMatch(/not connected/);
    const [row] = await db.all<{ status: string; cancel_requested_at: number | null }>(
      sql`SELECT status, cancel_requested_at FROM command_executions WHERE id = ${e.id}`,
    );
    expect(row.status).toBe("sent");
    expect(row.cancel_requested_at).not.toBeNull();
  });
});

describe("PATCH /api/v1/command_executions/{id}/cancel and DELETE", () => {
  let nodeId: string;
  beforeAll(async () => {
    await makeCluster(`${P}-off`);
    nodeId = (await enrolNode(api, `${P}-off`)).nodeId;
  });

  it("cancels a pending execution at once, with its event", async () => {
    const [e] = (await run([nodeId])).executions;
    const res = await api.patch(`/api/v1/command_executions/${e.id}/cancel`);
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ result: "cancelled" });
    const row = await execution(e.id);
    expect(row).toMatchObject({ status: "cancelled", exit_code: null });
    expect(row.cancelled_at).not.toBeNull();
    const events = await db.all<{ n: number }>(
      sql`SELECT count(*) AS n FROM events WHERE type = 'edge.command_execution.cancelled' AND json_extract(data, '$.execution_id') = ${e.id}`,
    );
    expect(events[0].n).toBe(1);
    expect((await api.patch(`/api/v1/command_executions/${e.id}/cancel`)).status).toBe(409);
  });

  it("answers 404 for an unknown execution and 400 for a malformed id", async () => {
    const ghost = crypto.randomUUID();
    for (const res of [
      await api.patch(`/api/v1/command_executions/${ghost}/cancel`),
      await api.get(`/api/v1/command_executions/${ghost}`),
      await api.del(`/api/v1/command_executions/${ghost}`),
    ]) {
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe("not_found");
    }
    expect((await api.get("/api/v1/command_executions/nope")).status).toBe(400);
    expect((await api.patch("/api/v1/command_executions/nope/cancel")).status).toBe(400);
  });

  it("deletes only terminal executions", async () => {
    const [e] = (await run([nodeId])).executions;
    const refused = await api.del(`/api/v1/command_executions/${e.id}`);
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toMatch(/is pending/);
    await db.run(sql`UPDATE command_executions SET status = 'sent' WHERE id = ${e.id}`);
    expect((await api.del(`/api/v1/command_executions/${e.id}`)).status).toBe(409);
    for (const status of ["completed", "expired"]) {
      const [t] = (await run([nodeId])).executions;
      await db.run(sql`UPDATE command_executions SET status = ${status} WHERE id = ${t.id}`);
      expect((await api.del(`/api/v1/command_executions/${t.id}`)).status).toBe(204);
      expect((await api.get(`/api/v1/command_executions/${t.id}`)).status).toBe(404);
    }
    await api.patch(`/api/v1/command_executions/${(await run([nodeId])).executions[0].id}/cancel`);
    await db.run(sql`UPDATE command_executions SET status = 'completed' WHERE id = ${e.id}`);
    expect((await api.del(`/api/v1/command_executions/${e.id}`)).status).toBe(204);
    expect((await api.del(`/api/v1/command_executions/${e.id}`)).status).toBe(404);
  });
});

describe("GET /api/v1/command_executions/{id}/stream", () => {
  let nodeId: string;
  beforeAll(async () => {
    await makeCluster(`${P}-sse`);
    nodeId = (await enrolNode(api, `${P}-sse`)).nodeId;
  });

  it("streams a finished execution's stored output, then its end event, at once", async () => {
    const [e] = (await run([nodeId])).executions;
    await db.run(
      sql`UPDATE command_executions SET status = 'completed', exit_code = 0, output = 'hi' WHERE id = ${e.id}`,
    );
    const res = await api.fetch(`/api/v1/command_executions/${e.id}/stream`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    expect(await res.text()).toBe(
      'event: output\ndata: {"chunk":"hi"}\n\nevent: end\ndata: {"status":"completed","exit_code":0}\n\n',
    );
  });

  it("answers 404 for an unknown execution, in the error envelope", async () => {
    const res = await api.get(`/api/v1/command_executions/${crypto.randomUUID()}/stream`);
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe("not_found");
  });
});
