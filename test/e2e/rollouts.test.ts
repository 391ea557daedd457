// Synchronous commands and rollouts end to end: a real stack (libSQL dev server, `wrangler dev`,
// cron ticker) and three real agents running real shells. `wait_seconds` answers with every node's
// output; a rollout one node at a time never overlaps, and a failure with `max_errors: 0` stops it
// before the third node runs anything; a rollout goes on after the Worker restarts mid-way.
import { chmod, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir as tmpdirOf } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AgentProcess, copyBundle, stopAllAgents, tempDir } from "../support/agent-process";
import {
  type Api,
  apiClient,
  enrollmentKey,
  executionsOf,
  launchAgent,
  readIdentity,
  waitUntil,
} from "../support/command-helpers";
import { printOutputsOnFailure } from "../support/failure-output";
import { freePort, portIsFree, type Stack, startStack } from "../support/stack";

const N = 3;

describe("synchronous commands and rollouts on real agents", () => {
  let stack: Stack;
  let workDir: string;
  let api: Api;
  const agents: AgentProcess[] = [];
  const ids: string[] = [];
  let port = 0;
  let bundle = "";
  const stub = join(tmpdirOf(), `systemd-run-${process.pid}-${Date.now()}`);
  const bootFile = (i: number) => join(workDir, `boot-id-${i}`);
  const agentEnv = (i: number) => ({ OUTPOST_SYSTEMD_RUN: stub, OUTPOST_BOOT_ID_FILE: bootFile(i) });
  const startOurStack = () =>
    startStack({
      cronInterval: 1,
      dataDir: join(workDir, "stack"),
      env: { PORT: String(port) },
      tolerant: true,
    });

  beforeAll(async () => {
    workDir = await tempDir("outpost-e2e-rollouts-");
    bundle = await copyBundle(workDir);
    port = await freePort();
    stack = await startOurStack();
    api = apiClient(() => stack.url, 90_000);
    expect((await api("POST", "/api/v1/clusters", { name: "fleet" })).status).toBe(201);
    const key = await enrollmentKey(api, "fleet", N);
    // A harmless systemd-run: records its arguments. Each agent reads its boot id from a file.
    await writeFile(stub, `#!/bin/sh\nprintf '%s\\n' "$@" >> ${stub}.log\n`);
    await chmod(stub, 0o755);
    for (let i = 0; i < N; i++) {
      const stateDir = join(workDir, `state-${i}`);
      await writeFile(bootFile(i), "boot-1\n");
      agents.push(launchAgent({ bundle, stateDir, key, env: agentEnv(i) }));
      // One at a time: the rollout's order is the nodes' enrolment order.
      await agents[i]?.waitFor(/INFO\s+connected/, { timeoutMs: 30_000 });
      ids.push((await readIdentity(stateDir)).node_id);
    }
    await waitUntil("all nodes healthy", async () => {
      const res = await api("GET", "/api/v1/nodes?page_size=100");
      return res.json.data.filter((n: { status: string }) => n.status === "healthy").length === N
        ? true
        : undefined;
    });
  });

  afterAll(async () => {
    await stopAllAgents();
    await stack?.stop();
    if (workDir) await rm(workDir, { recursive: true, force: true });
    await rm(stub, { force: true });
    await rm(`${stub}.log`, { force: true });
  });

  printOutputsOnFailure(() => ({
    "stack output": { text: stack?.output(), lines: 60 },
    ...Object.fromEntries(agents.map((a, i) => [`agent ${i}`, { text: a.output(), lines: 20 }])),
  }));

  it("wait_seconds answers with the output of all three nodes in one response", async () => {
    const res = await api("POST", "/api/v1/commands", {
      command_text: 'sleep 0.2; echo "ran $OUTPOST_EXECUTION_ID"',
      targeting: { type: "all" },
      wait_seconds: 30,
    });
    expect(res.status, JSON.stringify(res.json)).toBe(201);
    expect(res.json.meta.complete).toBe(true);
    const executions = res.json.data.executions as any[];
    expect(executions.map((e) => e.node_id).sort()).toEqual([...ids].sort());
    for (const e of executions) {
      expect(e).toMatchObject({ status: "completed", exit_code: 0, output: `ran ${e.id}\n` });
      expect(e.duration_ms).toBeGreaterThanOrEqual(150);
      expect(e.started_at).not.toBeNull();
    }
  });

  it("a rollout one node at a time never overlaps, and a failure with max_errors 0 stops it", async () => {
    const marker = join(workDir, `marker-${Date.now()}`);
    // The first node to run creates the marker and succeeds; the next finds it and fails.
    const res = await api("POST", "/api/v1/commands", {
      command_text: `sleep 0.3; if [ -e ${marker} ]; then echo second; exit 1; fi; touch ${marker}; echo first`,
      targeting: { type: "all" },
      max_concurrency: 1,
      max_errors: 0,
    });
    expect(res.status, JSON.stringify(res.json)).toBe(201);
    const commandId = res.json.data.id;
    await waitUntil(
      "rollout stopped",
      async () => {
        const c = await api("GET", `/api/v1/commands/${commandId}`);
        return c.json.data.rollout.status === "stopped" ? true : undefined;
      },
      { timeoutMs: 30_000 },
    );
    const byNode = new Map((await executionsOf(api, commandId)).map((e: any) => [e.node_id, e]));
    const [first, second, third] = ids.map((id) => byNode.get(id) as any);
    expect(first).toMatchObject({ status: "completed", exit_code: 0, output: "first\n" });
    expect(second).toMatchObject({ status: "completed", exit_code: 1, output: "second\n" });
    expect(third.status).toBe("cancelled");
    expect(third.sent_at).toBeNull();
    expect(third.output).toMatch(/rollout stopped/);
    // Never two at once: the second started after the first had finished (agent clocks, one host).
    const end = Date.parse(first.started_at) + first.duration_ms;
    expect(Date.parse(second.started_at)).toBeGreaterThanOrEqual(end - 1000);
    expect(Date.parse(second.sent_at)).toBeGreaterThanOrEqual(Date.parse(first.completed_at) - 1000);
  });

  it("a rollout survives a Worker restart mid-way and still runs one node at a time", async () => {
    const res = await api("POST", "/api/v1/commands", {
      command_text: "sleep 1.5; echo done",
      targeting: { type: "all" },
      max_concurrency: 1,
      max_errors: 0,
    });
    expect(res.status, JSON.stringify(res.json)).toBe(201);
    const commandId = res.json.data.id;
    await waitUntil("first execution sent", async () => {
      const execs = await executionsOf(api, commandId);
      return execs.some((e) => e.status === "sent") ? true : undefined;
    });
    expect(await stack.stop()).toBe(0);
    await waitUntil("port free", async () => (await portIsFree(port)) || undefined, { timeoutMs: 15_000 });
    stack = await startOurStack();
    await waitUntil(
      "rollout completed",
      async () => {
        const c = await api("GET", `/api/v1/commands/${commandId}`);
        return c.json?.data?.rollout?.status === "completed" ? true : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 500 },
    );
    const execs = (await executionsOf(api, commandId)) as any[];
    expect(execs.map((e) => [e.status, e.exit_code, e.output])).toEqual(
      execs.map(() => ["completed", 0, "done\n"]),
    );
    // One at a time: each execution was sent only after the one before it had completed.
    const bySent = [...execs].sort((a, b) => Date.parse(a.sent_at) - Date.parse(b.sent_at));
    for (let i = 1; i < bySent.length; i++)
      expect(Date.parse(bySent[i].sent_at)).toBeGreaterThanOrEqual(
        Date.parse(bySent[i - 1].completed_at) - 1000,
      );
  });

  it("a power action runs a stand-in systemd-run on a real agent, and a restarted agent with a new boot id confirms the reboot", async () => {
    const res = await api("POST", `/api/v1/nodes/${ids[0]}/power_actions`, {
      action: "reboot",
      confirm: true,
      delay_seconds: 0,
      message: "e2e reboot",
    });
    expect(res.status, JSON.stringify(res.json)).toBe(201);
    const pa = res.json.data;
    await waitUntil("scheduled", async () => {
      const r = await api("GET", `/api/v1/power_actions/${pa.id}`);
      return ["scheduled", "issued"].includes(r.json.data.status) ? true : undefined;
    });
    const args = (await readFile(`${stub}.log`, "utf8")).split("\n");
    expect(args).toEqual(expect.arrayContaining(["--on-active=5s", `--unit=${pa.unit}`, "reboot"]));
    // The "reboot": the agent stops, the machine comes back with another boot id, the agent starts.
    await agents[0]?.stop();
    await writeFile(bootFile(0), "boot-2\n");
    agents[0] = launchAgent({ bundle, stateDir: join(workDir, "state-0"), env: agentEnv(0) });
    const done = await waitUntil(
      "reboot confirmed",
      async () => {
        const r = await api("GET", `/api/v1/power_actions/${pa.id}`);
        return r.json.data.status === "completed" ? r.json.data : undefined;
      },
      { timeoutMs: 40_000 },
    );
    expect(done.previous_boot_id).toBe("boot-1");
  });

  it("a fleet reboot with max_concurrency 1 reboots one real agent at a time, the next released when the first is back", async () => {
    const res = await api("POST", "/api/v1/power_actions", {
      targeting: { type: "nodes", node_ids: [ids[1], ids[2]] },
      action: "reboot",
      confirm: true,
      delay_seconds: 0,
      max_concurrency: 1,
    });
    expect(res.status, JSON.stringify(res.json)).toBe(201);
    const [first, second] = [ids[1], ids[2]].map((id) => res.json.data.find((x: any) => x.node_id === id));
    // Recorded, not asserted inside the polls: waitUntil retries a probe that throws.
    const overlaps: string[][] = [];
    const statuses = async () => {
      const now = await Promise.all(
        [first, second].map(
          async (x) => (await api("GET", `/api/v1/power_actions/${x.id}`)).json.data.status,
        ),
      );
      if (now.filter((s) => ["pending", "scheduled", "issued"].includes(s)).length > 1) overlaps.push(now);
      return now;
    };
    await waitUntil("first scheduled", async () => {
      const now = await statuses();
      return ["scheduled", "issued"].includes(now[0]) && now[1] === "waiting" ? true : undefined;
    });
    await agents[1]?.stop();
    await writeFile(bootFile(1), "boot-2\n");
    agents[1] = launchAgent({ bundle, stateDir: join(workDir, "state-1"), env: agentEnv(1) });
    await waitUntil(
      "second released after the first came back",
      async () => {
        const now = await statuses();
        return now[0] === "completed" && ["scheduled", "issued"].includes(now[1]) ? true : undefined;
      },
      { timeoutMs: 40_000 },
    );
    expect(overlaps, "both power actions in progress at once").toEqual([]);
  });
});
