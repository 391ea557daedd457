import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import {
  applyResults,
  claimPendingForNodes,
  claimPendingForNodesStatements,
  DELIVERY_BATCH,
  resultStatements,
} from "../../src/executions/lifecycle";
import { enrolNode } from "./agent-session";
import {
  api,
  db,
  execution,
  inline,
  LIVE,
  online,
  run,
  setUpExecutions,
  startExecutionsFile,
  waitFrame,
} from "./executions-fixture";

startExecutionsFile();

// Fan-out and result writes in bulk: the dispatcher's multi-node claim, the claim in a command's own
// batch, and the set-based result write behind the batch writers.
beforeAll(() => setUpExecutions());

describe("fan-out and results in bulk", () => {
  it("claims a small command's rows for connected nodes in its creation batch; an offline node's stays pending", async () => {
    const on = await online();
    const { nodeId: offline } = await enrolNode(api, LIVE);
    const { command, executions } = await run([on.nodeId, offline]);
    // Listed right after the POST answered: the claim was part of the command's own write.
    const byNode = Object.fromEntries(executions.map((e) => [e.node_id, e]));
    expect(byNode[on.nodeId]).toMatchObject({ status: "sent" });
    expect(byNode[on.nodeId].sent_at).not.toBeNull();
    expect(byNode[offline]).toMatchObject({ status: "pending", sent_at: null });
    await waitFrame(on.agent, "exec", byNode[on.nodeId].id);
    const events = await db.all<{ type: string; n: number }>(sql`
      SELECT type, count(*) AS n FROM events WHERE json_extract(data, '$.command_id') = ${command.id}
       GROUP BY type ORDER BY type`);
    expect(events).toEqual([
      { type: "edge.command_execution.created", n: 2 },
      { type: "edge.command_execution.sent", n: 1 },
    ]);
    on.agent.ws.close(1000);
  });

  it("applies results that many agents send at once exactly once each, duplicates included", async () => {
    const agents = await Promise.all(Array.from({ length: 12 }, () => online()));
    const { command, executions } = await run(agents.map((a) => a.nodeId));
    const byNode = new Map(executions.map((e) => [e.node_id, e.id as string]));
    await Promise.all(agents.map((a) => waitFrame(a.agent, "exec", byNode.get(a.nodeId)!)));
    agents.forEach((a, i) => {
      const id = byNode.get(a.nodeId)!;
      const result = {
        type: "result" as const,
        execution_id: id,
        exit_code: i,
        output: `out ${i}\n`,
        truncated: false,
      };
      a.agent.send(result);
      // Every third agent repeats itself, as after a reconnect with an unacknowledged result.
      if (i % 3 === 0) a.agent.send({ ...result, exit_code: 99, output: "late duplicate" });
    });
    await Promise.all(
      agents.map((a, i) => waitFrame(a.agent, "ack", byNode.get(a.nodeId)!, i % 3 === 0 ? 2 : 1)),
    );
    for (const [i, a] of agents.entries())
      expect(await execution(byNode.get(a.nodeId)!)).toMatchObject({
        status: "completed",
        exit_code: i,
        output: `out ${i}\n`,
      });
    const [completed] = await db.all<{ n: number }>(sql`
      SELECT count(*) AS n FROM events WHERE type = 'edge.command_execution.completed'
         AND json_extract(data, '$.command_id') = ${command.id}`);
    expect(completed.n).toBe(12);
    for (const a of agents) a.agent.ws.close(1000);
  });

  it("applies a batch of results as if one after the other: wrong node, repeats, cancel, late", async () => {
    const nodes = await Promise.all(Array.from({ length: 4 }, () => enrolNode(api, LIVE)));
    const [n0, n1, n2, n3] = nodes.map((n) => n.nodeId);
    const { command, executions } = await run([n0, n1, n2, n3]);
    const of = new Map(executions.map((e) => [e.node_id, e.id as string]));
    await db.run(sql`UPDATE command_executions SET cancel_requested_at = 1 WHERE id = ${of.get(n2)}`);
    await db.run(sql`UPDATE command_executions SET status = 'expired' WHERE id = ${of.get(n3)}`);
    const result = (node: string, executionOf: string, exitCode: number) => ({
      nodeId: node,
      executionId: of.get(executionOf)!,
      exitCode,
      output: `${exitCode}`,
    });
    const outcomes = await applyResults(db, [
      result(n1, n0, 7), // another node's execution: no effect
      result(n0, n0, 1), // the owner, in the next round: applied
      result(n0, n0, 2), // a repeat: already completed
      result(n1, n1, 0),
      result(n2, n2, 143), // after a cancel request: cancelled
      result(n3, n3, 0), // expired meanwhile: no effect
    ]);
    expect(outcomes.map((o) => o?.status ?? null)).toEqual([
      null,
      "completed",
      null,
      "completed",
      "cancelled",
      null,
    ]);
    // Each applied result says what it stored: the start and duration a synchronous answer shows.
    const [stored] = await db.all<{ started_at: number | null; duration_ms: number | null }>(
      sql`SELECT started_at, duration_ms FROM command_executions WHERE id = ${of.get(n0)}`,
    );
    expect(outcomes[1]).toEqual({
      status: "completed",
      startedAt: stored?.started_at,
      durationMs: stored?.duration_ms,
      commandId: command.id,
      rollout: false,
    });
    // A plain command: no rollout window for the sessions to advance.
    expect(outcomes.filter((o) => o?.rollout)).toEqual([]);
    expect(await execution(of.get(n0)!)).toMatchObject({ status: "completed", exit_code: 1, output: "1" });
    expect(await execution(of.get(n2)!)).toMatchObject({ status: "cancelled", exit_code: 143 });
    expect(await execution(of.get(n3)!)).toMatchObject({ status: "expired", exit_code: null });
    const events = await db.all<{ type: string; node_id: string; exit_code: number }>(sql`
      SELECT type, json_extract(data, '$.node_id') AS node_id, json_extract(data, '$.exit_code') AS exit_code
        FROM events WHERE json_extract(data, '$.command_id') = ${command.id} AND type != 'edge.command_execution.created'
       ORDER BY node_id`);
    expect(events).toEqual(
      [
        { type: "edge.command_execution.completed", node_id: n0, exit_code: 1 },
        { type: "edge.command_execution.completed", node_id: n1, exit_code: 0 },
        { type: "edge.command_execution.cancelled", node_id: n2, exit_code: 143 },
      ].sort((a, b) => (a.node_id < b.node_id ? -1 : 1)),
    );
  });

  it("tells the session whether a result's command is a rollout (only then is its window advanced)", async () => {
    const [plain, rolled] = await Promise.all([enrolNode(api, LIVE), enrolNode(api, LIVE)]);
    const first = await run([plain.nodeId]);
    const second = await run([rolled.nodeId]);
    // A rollout's own fields are set by its creation; the flag only reads rollout_status.
    await db.run(sql`UPDATE commands SET rollout_status = 'running' WHERE id = ${second.command.id}`);
    const outcomes = await applyResults(db, [
      { nodeId: plain.nodeId, executionId: first.executions[0].id, exitCode: 0, output: "" },
      { nodeId: rolled.nodeId, executionId: second.executions[0].id, exitCode: 0, output: "" },
    ]);
    expect(outcomes).toMatchObject([
      { status: "completed", commandId: first.command.id, rollout: false },
      { status: "completed", commandId: second.command.id, rollout: true },
    ]);
  });

  it("claims and results find execution rows by primary key, never by walking every live row", async () => {
    const plans: string[][] = [];
    const statements = [
      ...claimPendingForNodesStatements(db, [crypto.randomUUID(), crypto.randomUUID()], DELIVERY_BATCH),
      ...resultStatements(db, [
        { nodeId: crypto.randomUUID(), executionId: crypto.randomUUID(), exitCode: 0, output: "" },
      ]),
    ];
    for (const statement of statements) {
      const query = (statement as unknown as { getQuery(): { sql: string; params: unknown[] } }).getQuery();
      const rows = await db.all<{ detail: string }>(
        sql.join([sql.raw("EXPLAIN QUERY PLAN "), sql.raw(inline(query.sql, query.params))]),
      );
      plans.push(rows.map((r) => r.detail));
    }
    for (const plan of plans) {
      const outer = plan.find((step) => /^(SEARCH|SCAN) e /.test(step));
      expect(outer, plan.join("\n")).toMatch(
        /^SEARCH e USING (COVERING )?INDEX sqlite_autoindex_command_executions_1 \(id=\?\)/,
      );
    }
  });

  it("a dispatcher's claim takes connected nodes' oldest rows first, at most the limit per node", async () => {
    const { nodeId: a } = await enrolNode(api, LIVE);
    const { nodeId: b } = await enrolNode(api, LIVE);
    const { nodeId: away } = await enrolNode(api, LIVE);
    // Three commands, oldest first; each round maps node → its execution id.
    const rounds: Map<string, string>[] = [];
    for (let i = 0; i < 3; i++) {
      const { executions } = await run([a, b, away]);
      expect(executions.map((e) => e.status)).toEqual(["pending", "pending", "pending"]);
      rounds.push(new Map(executions.map((e) => [e.node_id, e.id])));
      await new Promise((r) => setTimeout(r, 5)); // distinct inserted_at: "oldest" is then unambiguous
    }
    // The database believes a and b connected (no session here: the rows are claimed, not pushed).
    await db.run(sql`UPDATE nodes SET status = 'healthy' WHERE id IN (${a}, ${b})`);
    try {
      const claimed = await claimPendingForNodes(db, [a, b, away], 2);
      expect([...claimed.keys()].sort()).toEqual([a, b].sort());
      for (const node of [a, b]) {
        expect(claimed.get(node)!.map((e) => e.id)).toEqual([rounds[0].get(node), rounds[1].get(node)]);
        expect((await execution(rounds[0].get(node)!)).status).toBe("sent");
        expect((await execution(rounds[2].get(node)!)).status).toBe("pending");
      }
      for (const round of rounds) expect((await execution(round.get(away)!)).status).toBe("pending");
    } finally {
      await db.run(sql`UPDATE nodes SET status = 'unreachable' WHERE id IN (${a}, ${b})`);
    }
  });
});
