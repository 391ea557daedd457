// The fault test: 300 executions (30 commands × 10 real agents) submitted over time while agents
// are SIGKILLed and restarted on their state dirs and `wrangler dev` itself is restarted once on
// the same port and data. Afterwards every execution is terminal and none ran twice: each command
// appends its OUTPOST_EXECUTION_ID to its agent's run log, and no id may appear twice there.
// One agent is never killed: it must ride out the restart by itself (same process, reconnected,
// fresh heartbeats, the reconnect counted). This file owns its stack because it restarts it.
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AgentProcess, copyBundle, stopAllAgents, tempDir } from "../support/agent-process";
import {
  type Api,
  apiClient,
  createCommand,
  type Execution,
  enrollmentKey,
  launchAgent,
  listAll,
  sleep,
  tail,
  waitUntil,
} from "../support/command-helpers";
import { printOutputsOnFailure } from "../support/failure-output";
import { connectAgents } from "../support/fleet";
import { freePort, portIsFree, type Stack, startStack } from "../support/stack";

const AGENTS = 10;
const COMMANDS = 30;
/** The stack is restarted right after this command was submitted (executions in flight). */
const RESTART_AFTER = 14;
// Submissions and kills come at a brisk pace: the same 300 executions, ≥ 10 kills and one restart,
// without seconds of idle time between them.
const SUBMIT_EVERY_MS = 300;
/** Never killed: it checks that a live agent reconnects by itself after the restart. */
const STEADY = 0;
const MAX_KILLS = 40;
const SETTLE_TIMEOUT_MS = 90_000;
const COMMAND = 'echo "$OUTPOST_EXECUTION_ID" >> "$E2E_RUNLOG" && sleep 0.2';

describe("commands under faults: agents SIGKILLed, wrangler dev restarted", () => {
  let stack: Stack;
  let port: number;
  let workDir: string;
  let dataDir: string;
  let bundle: string;
  let api: Api;
  const agents: AgentProcess[] = [];
  const stateDirs: string[] = [];
  const nodeIds: string[] = [];
  /** The steady agent's output length and the time just before the restart. */
  let beforeRestart: { mark: number; pid: number; at: number } | undefined;
  const runlog = (i: number) => join(stateDirs[i], "runlog");
  const relaunch = (i: number) =>
    launchAgent({ bundle, stateDir: stateDirs[i], env: { E2E_RUNLOG: runlog(i) } });

  async function restartStack(): Promise<void> {
    beforeRestart = { mark: agents[STEADY].mark(), pid: agents[STEADY].pid, at: Date.now() };
    expect(await stack.stop()).toBe(0);
    await waitUntil("port free", async () => (await portIsFree(port)) || undefined, { timeoutMs: 15_000 });
    stack = await startStack({ env: { PORT: String(port) }, dataDir, cronInterval: 1 });
    expect(stack.port).toBe(port);
  }

  beforeAll(async () => {
    workDir = await tempDir("outpost-e2e-faults-");
    dataDir = join(workDir, "stack");
    bundle = await copyBundle(workDir);
    port = await freePort();
    stack = await startStack({ env: { PORT: String(port) }, dataDir, cronInterval: 1 });
    api = apiClient(() => stack.url);
    expect((await api("POST", "/api/v1/clusters", { name: "fleet" })).status).toBe(201);
    const key = await enrollmentKey(api, "fleet", AGENTS);
    for (let i = 0; i < AGENTS; i++) stateDirs.push(join(workDir, `state-${i}`));
    const connected = await connectAgents(
      stateDirs.map((stateDir) => ({ bundle, stateDir, key, env: { E2E_RUNLOG: join(stateDir, "runlog") } })),
      40_000,
    );
    for (const { agent, nodeId } of connected) {
      agents.push(agent);
      nodeIds.push(nodeId);
    }
    expect(new Set(nodeIds).size).toBe(AGENTS);
  });

  afterAll(async () => {
    await stopAllAgents();
    await stack?.stop();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  printOutputsOnFailure(() => ({ "stack output": { text: stack?.output(), lines: 60 } }));

  it("300 executions end terminal and none runs twice", async () => {
    const started = Date.now();
    const commandIds: string[] = [];
    let submitting = true;
    let kills = 0;
    let restarts = 0;

    // Chaos: every 0.4–0.8 s SIGKILL a random running agent (not the steady one), start it again
    // 0.1–0.6 s later.
    const chaos = (async () => {
      for (let round = 0; round < MAX_KILLS && submitting && Date.now() - started < 90_000; round++) {
        await sleep(400 + Math.random() * 400);
        if (!submitting) break;
        const candidates = agents.map((a, i) => (a.running() && i !== STEADY ? i : -1)).filter((i) => i >= 0);
        if (candidates.length === 0) continue;
        const i = candidates[Math.floor(Math.random() * candidates.length)];
        agents[i].child.kill("SIGKILL");
        await agents[i].exited;
        kills++;
        await sleep(100 + Math.random() * 500);
        agents[i] = relaunch(i);
        restarts++;
      }
    })();

    try {
      for (let n = 0; n < COMMANDS; n++) {
        const cmd = await waitUntil(
          `command ${n} created`,
          () => createCommand(api, { command_text: COMMAND, targeting: { type: "all" } }),
          { timeoutMs: 20_000, intervalMs: 500 },
        );
        commandIds.push(cmd.id);
        if (n === RESTART_AFTER) {
          await sleep(150); // let the fan-out and some runs start, then pull the stack away
          await restartStack();
        } else {
          await sleep(SUBMIT_EVERY_MS);
        }
      }
    } finally {
      submitting = false;
      await chaos;
    }
    const submittedIn = Date.now() - started;

    // Everyone back: any agent left dead is started again.
    for (let i = 0; i < AGENTS; i++) if (!agents[i].running()) agents[i] = relaunch(i);

    // Wait (bounded) until nothing is pending or sent any more.
    let live: Execution[] = [];
    const settleStart = Date.now();
    try {
      await waitUntil(
        "no pending/sent executions",
        async () => {
          live = [
            ...(await listAll(api, "/api/v1/command_executions?status=pending")),
            ...(await listAll(api, "/api/v1/command_executions?status=sent")),
          ];
          return live.length === 0 ? true : undefined;
        },
        { timeoutMs: SETTLE_TIMEOUT_MS, intervalMs: 250 },
      );
    } catch (err) {
      const stuckNodes = new Set(live.map((e) => e.node_id));
      for (const [i, id] of nodeIds.entries())
        if (stuckNodes.has(id))
          console.error(
            `--- agent ${i} (node ${id}, pid ${agents[i].pid}) ---\n${tail(agents[i].output(), 25)}`,
          );
      throw new Error(
        `${(err as Error).message}: ${live.length} live, e.g. ${JSON.stringify(
          live.slice(0, 5).map((e) => ({ id: e.id, node: e.node_id, status: e.status, sent_at: e.sent_at })),
        )}`,
      );
    }
    const settledIn = Date.now() - settleStart;

    const all = await listAll(api, "/api/v1/command_executions");
    expect(all).toHaveLength(AGENTS * COMMANDS);
    expect(new Set(all.map((e) => e.id)).size).toBe(AGENTS * COMMANDS);
    const mine = new Set(commandIds);
    expect(all.every((e) => mine.has(e.command_id))).toBe(true);
    for (const commandId of commandIds) {
      const nodes = all.filter((e) => e.command_id === commandId).map((e) => e.node_id);
      expect(new Set(nodes)).toEqual(new Set(nodeIds));
    }

    // Run logs: no execution id twice, anywhere; each id only on its own node.
    const byId = new Map(all.map((e) => [e.id, e]));
    const seen = new Map<string, number>();
    const duplicates: string[] = [];
    const foreign: string[] = [];
    for (let i = 0; i < AGENTS; i++) {
      const text = await readFile(runlog(i), "utf8").catch(() => "");
      for (const id of text.split("\n").filter(Boolean)) {
        if (seen.has(id)) duplicates.push(`${id} (agents ${seen.get(id)} and ${i})`);
        seen.set(id, i);
        if (byId.get(id)?.node_id !== nodeIds[i]) foreign.push(`${id} in agent ${i}'s log`);
      }
    }
    expect(duplicates, "execution ids run twice").toEqual([]);
    expect(foreign, "run-log ids that are not this node's executions").toEqual([]);

    // Outcomes: completed with 0 (ran once, logged) or 125 (interrupted by a kill, explained).
    const exitCodes: Record<string, number> = {};
    const statuses: Record<string, number> = {};
    const unexplained: string[] = [];
    const unlogged: string[] = [];
    for (const e of all) {
      statuses[e.status] = (statuses[e.status] ?? 0) + 1;
      exitCodes[String(e.exit_code)] = (exitCodes[String(e.exit_code)] ?? 0) + 1;
      if (e.exit_code === 125 && !/not re-run|will not be re-run/.test(e.output ?? ""))
        unexplained.push(`${e.id}: ${JSON.stringify(e.output)}`);
      if (e.exit_code === 0 && !seen.has(e.id)) unlogged.push(e.id);
    }
    console.info(
      JSON.stringify({
        kills,
        restarts,
        stack_restarts: 1,
        submitted_in_ms: submittedIn,
        settled_in_ms: settledIn,
        statuses,
        exit_codes: exitCodes,
        run_log_entries: seen.size,
      }),
    );
    expect(statuses).toEqual({ completed: AGENTS * COMMANDS });
    expect(
      Object.keys(exitCodes).every((c) => c === "0" || c === "125"),
      JSON.stringify(exitCodes),
    ).toBe(true);
    expect(unexplained, "exit 125 without an explanation").toEqual([]);
    expect(unlogged, "exit 0 but never appended to the run log").toEqual([]);
    expect(kills).toBeGreaterThanOrEqual(10);

    // Summaries agree with the rows.
    for (const commandId of commandIds.slice(0, 3)) {
      const res = await api("GET", `/api/v1/commands/${commandId}/summary`);
      expect(res.status).toBe(200);
      expect(res.json.data.total).toBe(AGENTS);
      expect(res.json.data.counts.completed).toBe(AGENTS);
    }

    // The steady agent rode out the restart in the same process: it noticed the loss, reconnected
    // by itself, counts the reconnect, and its node is healthy with a heartbeat from after it.
    const steady = agents[STEADY];
    expect(beforeRestart).toBeDefined();
    const { mark, pid, at } = beforeRestart!;
    expect(steady.running()).toBe(true);
    expect(steady.pid).toBe(pid);
    await steady.waitFor("connection lost", { from: mark, timeoutMs: 1000 });
    await steady.waitFor(/INFO\s+connected/, { from: mark, timeoutMs: 1000 });
    const id = nodeIds[STEADY];
    await waitUntil("the steady node healthy", async () => {
      const node = await api("GET", `/api/v1/nodes/${id}`);
      return node.json.data.status === "healthy" || undefined;
    });
    await waitUntil("a heartbeat from after the restart", async () => {
      const host = await api("GET", `/api/v1/nodes/${id}/metrics/host`);
      return Date.parse(host.json.timestamp) >= Math.floor(at / 1000) * 1000 || undefined;
    });
    const agentMetrics = await api("GET", `/api/v1/nodes/${id}/metrics/agent`);
    expect(agentMetrics.json.data.application.reconnects).toBeGreaterThanOrEqual(1);
  });
});
