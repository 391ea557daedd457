// Commands end to end: the shared stack (libSQL dev server, `wrangler dev`; this file ticks the cron
// every second) and four real agents in three clusters of its own running real shells. The clusters'
// names share a prefix unique to this file, and "all" targeting is narrowed to it by a cluster filter,
// so other files' nodes on the shared stack are never targeted. Targeting, exit codes and output,
// cancel (the process group really dies), timeout, offline delivery and expiry, live output over
// SSE, and the per-command summary.
import { existsSync } from "node:fs";
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
  executionsOf,
  fakeMachineId,
  getExecution,
  launchAgent,
  processGone,
  readIdentity,
  readSse,
  type SseEvent,
  sleep,
  waitForCommand,
  waitForExecution,
  waitUntil,
} from "../support/command-helpers";
import { printOutputsOnFailure } from "../support/failure-output";
import { connectAgents, createCluster, startCronTicker, uniqueName } from "../support/fleet";
import { type Stack, sharedStack } from "../support/stack";

const CRON_SECONDS = 1;
const PREFIX = uniqueName("cmd");
const EAST = `${PREFIX}-alpha-east`;
const WEST = `${PREFIX}-alpha-west`;
const BETA = `${PREFIX}-beta`;
/** Everything this file owns: "all" is narrowed by it. */
const MINE = { name: `${PREFIX}-*` };
const ALPHA = { name: `${PREFIX}-alpha*` };
const SCRIPT = 'A=hello\nB=world\necho "$A $B"\necho "id=$OUTPOST_EXECUTION_ID"\nexit 3';

type Name = "east1" | "east2" | "west1" | "beta1";
const NAMES: Name[] = ["east1", "east2", "west1", "beta1"];

describe("commands on real agents", () => {
  let stack: Stack;
  let workDir: string;
  let bundle: string;
  let api: Api;
  let cron: { stop(): Promise<void> } | undefined;
  const agents = {} as Record<Name, AgentProcess>;
  const stateDirs = {} as Record<Name, string>;
  const ids = {} as Record<Name, string>;
  const machineIdFiles = {} as Partial<Record<Name, string>>;
  const nameOf = (nodeId: string | null) => NAMES.find((n) => ids[n] === nodeId) ?? `?${nodeId}`;
  const nodeNames = (execs: Execution[]) => execs.map((e) => nameOf(e.node_id)).sort();
  // Commands whose summaries the last test checks.
  const summaries: {
    id: string;
    total: number;
    counts: Record<string, number>;
    exitCodes: Record<string, number>;
  }[] = [];

  beforeAll(async () => {
    workDir = await tempDir("outpost-e2e-commands-");
    bundle = await copyBundle(workDir);
    stack = await sharedStack();
    api = apiClient(() => stack.url);
    cron = startCronTicker(stack, CRON_SECONDS * 1000);
    for (const name of [EAST, WEST, BETA]) await createCluster(api, name);
    const keys = {
      [EAST]: await enrollmentKey(api, EAST, 2),
      [WEST]: await enrollmentKey(api, WEST, 1),
      [BETA]: await enrollmentKey(api, BETA, 1),
    };
    const plan: Record<Name, { cluster: string; idType: "random" | "persistent" }> = {
      east1: { cluster: EAST, idType: "random" },
      east2: { cluster: EAST, idType: "persistent" },
      west1: { cluster: WEST, idType: "random" },
      beta1: { cluster: BETA, idType: "persistent" },
    };
    for (const name of NAMES) {
      stateDirs[name] = join(workDir, `state-${name}`);
      if (plan[name].idType === "persistent")
        machineIdFiles[name] = await fakeMachineId(join(workDir, `machine-id-${name}`));
    }
    const connected = await connectAgents(
      NAMES.map((name) => ({
        bundle,
        stateDir: stateDirs[name],
        key: keys[plan[name].cluster],
        idType: plan[name].idType,
        machineIdFile: machineIdFiles[name],
      })),
    );
    for (const [i, name] of NAMES.entries()) {
      agents[name] = connected[i].agent;
      ids[name] = connected[i].nodeId;
      expect((await readIdentity(stateDirs[name])).cluster_name).toBe(plan[name].cluster);
    }
    await waitUntil("all nodes healthy", async () => {
      const res = await api("GET", `/api/v1/nodes?page_size=100&cluster_name=${PREFIX}-*`);
      const healthy = res.json.data.filter((n: { status: string }) => n.status === "healthy");
      return healthy.length === NAMES.length ? true : undefined;
    });
  });

  afterAll(async () => {
    await cron?.stop();
    await stopAllAgents();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  printOutputsOnFailure(() => ({
    "stack output": { text: stack?.output(), lines: 60 },
    ...Object.fromEntries(
      NAMES.map((name) => [
        `agent ${name} (pid ${agents[name]?.pid})`,
        { text: agents[name]?.output(), lines: 20 },
      ]),
    ),
  }));

  it("runs a multi-line script with variables on every node of two clusters, and on all nodes", async () => {
    const byClusters = await createCommand(api, {
      command_text: SCRIPT,
      targeting: { type: "clusters", cluster_names: [EAST, WEST] },
    });
    const byAll = await createCommand(api, {
      command_text: SCRIPT,
      targeting: { type: "all", cluster_filters: MINE },
    });
    const [clustered, everywhere] = await Promise.all([
      waitForCommand(api, byClusters.id),
      waitForCommand(api, byAll.id),
    ]);
    expect(nodeNames(clustered)).toEqual(["east1", "east2", "west1"]);
    expect(nodeNames(everywhere)).toEqual(["beta1", "east1", "east2", "west1"]);
    for (const e of [...clustered, ...everywhere]) {
      expect(e.status).toBe("completed");
      expect(e.exit_code).toBe(3);
      // Output in order, and the execution's own id in the command's environment.
      expect(e.output).toBe(`hello world\nid=${e.id}\n`);
      expect(e.sent_at).not.toBeNull();
      expect(e.completed_at).not.toBeNull();
    }
    summaries.push(
      {
        id: byClusters.id,
        total: 3,
        counts: { pending: 0, sent: 0, completed: 3, cancelled: 0, expired: 0 },
        exitCodes: { "3": 3 },
      },
      {
        id: byAll.id,
        total: 4,
        counts: { pending: 0, sent: 0, completed: 4, cancelled: 0, expired: 0 },
        exitCodes: { "3": 4 },
      },
    );
  });

  it("node_filters and cluster_filters pick the right nodes", async () => {
    const cases: { targeting: Record<string, unknown>; expected: Name[] }[] = [
      {
        targeting: { type: "all", cluster_filters: ALPHA },
        expected: ["east1", "east2", "west1"],
      },
      {
        targeting: { type: "all", cluster_filters: MINE, node_filters: { id_type: "random" } },
        expected: ["east1", "west1"],
      },
      {
        targeting: { type: "all", cluster_filters: MINE, node_filters: { id_type: "persistent" } },
        expected: ["beta1", "east2"],
      },
      {
        targeting: {
          type: "all",
          cluster_filters: ALPHA,
          node_filters: { id_type: "persistent" },
        },
        expected: ["east2"],
      },
      {
        targeting: {
          type: "clusters",
          cluster_names: [EAST, BETA],
          node_filters: { id_type: "random" },
        },
        expected: ["east1"],
      },
      {
        targeting: { type: "nodes", node_ids: [ids.west1, ids.beta1], cluster_filters: { name: "*west" } },
        expected: ["west1"],
      },
      { targeting: { type: "all", node_filters: { cluster_name: BETA } }, expected: ["beta1"] },
    ];
    const created = [];
    for (const c of cases)
      created.push(await createCommand(api, { command_text: "true", targeting: c.targeting }));
    for (const [i, c] of cases.entries()) {
      const execs = await waitForCommand(api, created[i].id);
      expect(nodeNames(execs), JSON.stringify(c.targeting)).toEqual([...c.expected].sort());
      for (const e of execs) expect([e.status, e.exit_code]).toEqual(["completed", 0]);
    }
    // Filters that leave nothing: 422, and no command is created.
    const none = await api("POST", "/api/v1/commands", {
      command_text: "true",
      targeting: { type: "clusters", cluster_names: [BETA], cluster_filters: ALPHA },
    });
    expect(none.status).toBe(422);
  });

  it("cancelling a running `sleep 60` ends it `cancelled` with 143 and its processes are gone", async () => {
    const pidFile = join(workDir, "cancel.pids");
    const cmd = await createCommand(api, {
      command_text: `sleep 60 &\necho "$$ $!" > ${pidFile}\necho started\nwait`,
      targeting: { type: "nodes", node_ids: [ids.east1] },
    });
    const [exec] = await executionsOf(api, cmd.id);
    const pids = await waitUntil(
      "pid file",
      async () => {
        if (!existsSync(pidFile)) return undefined;
        const parts = (await readFile(pidFile, "utf8")).trim().split(/\s+/).map(Number);
        return parts.length === 2 && parts.every((p) => p > 0) ? parts : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 100 },
    );
    const [shellPid, sleepPid] = pids;
    expect(processGone(shellPid)).toBe(false);
    expect(processGone(sleepPid)).toBe(false);
    expect((await waitForExecution(api, exec.id, ["sent"], 5000)).status).toBe("sent");

    const cancel = await api("PATCH", `/api/v1/command_executions/${exec.id}/cancel`);
    expect(cancel.status).toBe(200);
    expect(cancel.json.data.result).toBe("cancellation request sent");
    const done = await waitForExecution(api, exec.id, ["cancelled", "completed", "expired"], 15_000);
    expect(done.status).toBe("cancelled");
    expect(done.exit_code).toBe(143);
    expect(done.cancelled_at).not.toBeNull();
    expect(done.output).toMatch(/^started\n/);
    expect(done.output).toMatch(/cancelled: sent SIGTERM/);
    // The shell (its parent, the agent, reaps it) and its background sleep are really gone.
    await waitUntil(
      "cancelled processes gone",
      async () => (processGone(shellPid) && processGone(sleepPid)) || undefined,
      {
        timeoutMs: 3000,
        intervalMs: 100,
      },
    );
    expect(() => process.kill(shellPid, 0)).toThrow(/ESRCH/);
    // A finished execution can't be cancelled again.
    expect((await api("PATCH", `/api/v1/command_executions/${exec.id}/cancel`)).status).toBe(409);
    summaries.push({
      id: cmd.id,
      total: 1,
      counts: { pending: 0, sent: 0, completed: 0, cancelled: 1, expired: 0 },
      exitCodes: { "143": 1 },
    });
  });

  it("a 500 ms timeout stops `sleep 5` with exit code 124 and a note", async () => {
    const started = Date.now();
    const cmd = await createCommand(api, {
      command_text: "echo before\nsleep 5\necho after",
      timeout: 500,
      targeting: { type: "nodes", node_ids: [ids.west1] },
    });
    expect(cmd.timeout).toBe(500);
    const [exec] = await executionsOf(api, cmd.id);
    const done = await waitForExecution(api, exec.id, undefined, 15_000);
    expect(Date.now() - started).toBeLessThan(4500);
    expect(done.status).toBe("completed");
    expect(done.exit_code).toBe(124);
    expect(done.output).toMatch(/^before\n/);
    expect(done.output).not.toMatch(/^after$/m);
    expect(done.output).toMatch(/\[timed out after 500 ms: sent SIGTERM/);
  });

  it("an offline node keeps its execution pending and runs it on reconnect; a passed expired_at expires it", async () => {
    const exit = await agents.beta1.stop();
    expect(exit).toEqual({ code: 0, signal: null });
    await waitUntil("beta1 unreachable", async () => {
      const res = await api("GET", `/api/v1/nodes/${ids.beta1}`);
      return res.json.data.status === "unreachable" || undefined;
    });
    const waiting = await createCommand(api, {
      command_text: "echo back online",
      targeting: { type: "nodes", node_ids: [ids.beta1] },
    });
    const deadline = Date.now() + 3000;
    const expiring = await createCommand(api, {
      command_text: "echo should never run",
      expired_at: new Date(deadline).toISOString(),
      targeting: { type: "nodes", node_ids: [ids.beta1] },
    });
    const [waitingExec] = await executionsOf(api, waiting.id);
    const [expiringExec] = await executionsOf(api, expiring.id);
    expect(waitingExec.status).toBe("pending");
    expect(expiringExec.status).toBe("pending");

    // The cron (every second) expires the second one once its deadline passed.
    const expired = await waitForExecution(
      api,
      expiringExec.id,
      ["expired", "completed", "cancelled"],
      15_000,
    );
    expect(expired.status).toBe("expired");
    expect(Date.now()).toBeGreaterThanOrEqual(deadline);
    expect(expired.exit_code).toBeNull();
    // Several cron ticks later the other one is still waiting for its node.
    await sleep(2 * CRON_SECONDS * 1000);
    expect((await getExecution(api, waitingExec.id)).status).toBe("pending");

    agents.beta1 = launchAgent({
      bundle,
      stateDir: stateDirs.beta1,
      idType: "persistent",
      machineIdFile: machineIdFiles.beta1,
    });
    await agents.beta1.waitFor(/INFO\s+connected/, { timeoutMs: 30_000 });
    const ran = await waitForExecution(api, waitingExec.id, undefined, 15_000);
    expect(ran.status).toBe("completed");
    expect(ran.exit_code).toBe(0);
    expect(ran.output).toBe("back online\n");
    // The expired one stays expired and was never run by the agent.
    await sleep(1000);
    const after = await getExecution(api, expiringExec.id);
    expect(after.status).toBe("expired");
    expect(after.output).toBeNull();
    expect(agents.beta1.output()).not.toContain(expiringExec.id);
    summaries.push(
      {
        id: waiting.id,
        total: 1,
        counts: { pending: 0, sent: 0, completed: 1, cancelled: 0, expired: 0 },
        exitCodes: { "0": 1 },
      },
      {
        id: expiring.id,
        total: 1,
        counts: { pending: 0, sent: 0, completed: 0, cancelled: 0, expired: 1 },
        exitCodes: {},
      },
    );
  });

  it("streams live output over SSE before the command finishes, then `end`", async () => {
    const cmd = await createCommand(api, {
      command_text: "for i in 1 2 3; do echo tick$i; sleep 1; done",
      targeting: { type: "nodes", node_ids: [ids.east2] },
    });
    const [exec] = await executionsOf(api, cmd.id);
    let statusAtFirstTick: string | undefined;
    let firstTick: SseEvent | undefined;
    const opened = Date.now();
    const stream = await readSse(`${stack.url}/api/v1/command_executions/${exec.id}/stream`, {
      timeoutMs: 20_000,
      onEvent: async (ev) => {
        if (!firstTick && ev.event === "output" && String(ev.data?.chunk).includes("tick1")) {
          firstTick = ev;
          statusAtFirstTick = (await getExecution(api, exec.id)).status;
        }
      },
    });
    const final = await waitForExecution(api, exec.id, undefined, 15_000);
    const summary = {
      status: stream.status,
      timedOut: stream.timedOut,
      events: stream.events.map((e) => `${e.event}@${e.at - opened}ms ${JSON.stringify(e.data)}`),
    };
    expect(stream.status).toBe(200);
    expect(stream.contentType).toMatch(/^text\/event-stream/);
    expect(final.status).toBe("completed");
    expect(final.output).toBe("tick1\ntick2\ntick3\n");
    // The live part: tick1 arrives while the execution is still running.
    expect(firstTick, `no live output event with tick1: ${JSON.stringify(summary)}`).toBeDefined();
    expect(statusAtFirstTick).not.toBe("completed");
    const outputs = stream.events
      .filter((e) => e.event === "output")
      .map((e) => e.data.chunk)
      .join("");
    expect(outputs).toBe("tick1\ntick2\ntick3\n");
    const end = stream.events.at(-1);
    expect(end?.event).toBe("end");
    expect(end?.data).toEqual({ status: "completed", exit_code: 0 });
    // `end` follows the result promptly, not only on the stream's 10 s keepalive poll.
    expect(end!.at - firstTick!.at).toBeLessThan(6000);
  });

  it("the command stream relays each node's output as it arrives, tagged, before the command ends", async () => {
    const cmd = await createCommand(api, {
      command_text: "for i in 1 2 3; do echo $i; sleep 0.3; done",
      targeting: { type: "nodes", node_ids: [ids.east1, ids.west1] },
    });
    const firstChunkStatus = new Map<string, string>();
    const opened = Date.now();
    const stream = await readSse(`${stack.url}/api/v1/commands/${cmd.id}/stream`, {
      timeoutMs: 20_000,
      onEvent: async (ev) => {
        if (ev.event !== "output" || firstChunkStatus.has(ev.data.node_id)) return;
        firstChunkStatus.set(ev.data.node_id, (await getExecution(api, ev.data.execution_id)).status);
      },
    });
    const summary = stream.events.map((e) => `${e.event}@${e.at - opened}ms ${JSON.stringify(e.data)}`);
    expect(stream.timedOut, summary.join("\n")).toBe(false);
    expect(stream.events.at(-1)?.event).toBe("end");
    for (const name of ["east1", "west1"] as const) {
      const node = ids[name];
      const outputs = stream.events.filter((e) => e.event === "output" && e.data.node_id === node);
      expect(outputs.map((e) => e.data.chunk).join(""), summary.join("\n")).toBe("1\n2\n3\n");
      expect(outputs.every((e) => e.data.hostname && e.data.execution_id)).toBe(true);
      // Live: the first chunk came while the execution was still running.
      expect(firstChunkStatus.get(node)).toBe("sent");
      const final = stream.events.find(
        (e) => e.event === "execution" && e.data.node_id === node && e.data.status === "completed",
      );
      expect(final?.data.output).toBe("1\n2\n3\n");
      // Every chunk came before the final state.
      expect(Math.max(...outputs.map((e) => e.at))).toBeLessThanOrEqual(final!.at);
    }
  });

  it("a finished execution's stream replays its output and `end` at once", async () => {
    const cmd = await createCommand(api, {
      command_text: "printf 'one\\ntwo\\n'; exit 7",
      targeting: { type: "nodes", node_ids: [ids.east1] },
    });
    const [exec] = await executionsOf(api, cmd.id);
    await waitForExecution(api, exec.id);
    const stream = await readSse(`${stack.url}/api/v1/command_executions/${exec.id}/stream`, {
      timeoutMs: 5000,
    });
    expect(stream.timedOut).toBe(false);
    expect(stream.events.map((e) => [e.event, e.data])).toEqual([
      ["output", { chunk: "one\ntwo\n" }],
      ["end", { status: "completed", exit_code: 7 }],
    ]);
  });

  it("GET /api/v1/commands/{id}/summary reflects the final counts", async () => {
    expect(summaries.length).toBeGreaterThan(0);
    for (const s of summaries) {
      const res = await api("GET", `/api/v1/commands/${s.id}/summary`);
      expect(res.status).toBe(200);
      const data = res.json.data;
      expect(data.command_id).toBe(s.id);
      expect(data.total).toBe(s.total);
      expect(data.counts).toEqual(s.counts);
      expect(data.exit_codes).toEqual(s.exitCodes);
      if (s.counts.completed > 0) {
        expect(data.first_completed_at).not.toBeNull();
        expect(Date.parse(data.last_completed_at)).toBeGreaterThanOrEqual(
          Date.parse(data.first_completed_at),
        );
      } else {
        expect(data.first_completed_at).toBeNull();
        expect(data.last_completed_at).toBeNull();
      }
    }
    const missing = await api("GET", "/api/v1/commands/00000000-0000-4000-8000-000000000000/summary");
    expect(missing.status).toBe(404);
  });
});
