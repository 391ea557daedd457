import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type AgentProcess,
  copyBundle,
  runAgentToExit,
  startAgent,
  stopAllAgents,
  tempDir,
} from "../support/agent-process";
import { apiClient, waitUntil } from "../support/command-helpers";
import { printOutputsOnFailure } from "../support/failure-output";
import { createCluster, uniqueName } from "../support/fleet";
import { type Stack, sharedStack } from "../support/stack";

// The shared stack (its NODE_HEARTBEAT_STALE_FACTOR is the default, 3); every list is narrowed to
// this file's cluster. Agents reconnecting after a restart of `wrangler dev` are tested in
// command-faults.test.ts, which owns its stack.
const HEARTBEAT_SECONDS = 1;
const STALE_FACTOR = 3;
const STALE_WINDOW_MS = HEARTBEAT_SECONDS * STALE_FACTOR * 1000;
const CLUSTER = uniqueName("fleet");

describe("agents that enrol and stay connected", () => {
  let workDir: string;
  let bundle: string;
  let agentVersion: string;
  let stack: Stack;
  let keyId: string;
  let keyBlob: string;
  const stateDirs: Record<"a" | "b" | "c", string> = { a: "", b: "", c: "" };
  const agents: Record<"a" | "b", AgentProcess | undefined> = { a: undefined, b: undefined };
  const nodeIds: Record<"a" | "b", string> = { a: "", b: "" };

  const api = apiClient(() => stack.url);

  async function nodeStatuses(): Promise<Record<string, string>> {
    const res = await api("GET", `/api/v1/nodes?page_size=100&cluster_name=${CLUSTER}`);
    expect(res.status).toBe(200);
    return Object.fromEntries(res.json.data.map((n: { id: string; status: string }) => [n.id, n.status]));
  }

  /** Polls GET /api/v1/nodes until `id` has `status`; resolves the milliseconds it took. */
  async function waitForStatus(id: string, status: string, timeoutMs = 20_000): Promise<number> {
    const started = Date.now();
    let last: string | undefined;
    while (Date.now() - started < timeoutMs) {
      last = (await nodeStatuses())[id];
      if (last === status) return Date.now() - started;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`node ${id} not ${status} within ${timeoutMs} ms (last: ${last})`);
  }

  const agentEnv = (key?: string) => ({
    OUTPOST_ID_TYPE: "random",
    OUTPOST_HEARTBEAT_INTERVAL: String(HEARTBEAT_SECONDS),
    ...(key ? { ENROLLMENT_KEY: key } : {}),
  });

  async function identity(stateDir: string) {
    return JSON.parse(await readFile(join(stateDir, "identity.json"), "utf8")) as {
      node_id: string;
      cluster_name: string;
      server: string;
    };
  }

  beforeAll(async () => {
    workDir = await tempDir("outpost-e2e-agents-");
    for (const name of ["a", "b", "c"] as const) stateDirs[name] = join(workDir, `state-${name}`);
    bundle = await copyBundle(workDir);
    stack = await sharedStack();
    agentVersion = (
      await runAgentToExit({ bundle, stateDir: stateDirs.c, args: ["--version"] })
    ).stdout.trim();
    await createCluster(api, CLUSTER);
    const key = await api("POST", `/api/v1/clusters/${CLUSTER}/enrollment_keys`, { uses_remaining: 2 });
    expect(key.status).toBe(201);
    keyId = key.json.data.id;
    keyBlob = key.json.data.key;
  });

  afterAll(async () => {
    await stopAllAgents();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  // On a failure, show what the stack and the agents printed: most causes are visible there.
  printOutputsOnFailure(() => ({
    "stack output": stack?.output(),
    ...Object.fromEntries(
      Object.entries(agents).map(([name, agent]) => [`agent ${name} (pid ${agent?.pid})`, agent?.output()]),
    ),
  }));

  it("enrols two agents with a two-use key; both report healthy with real metrics", async () => {
    agents.a = startAgent({ bundle, stateDir: stateDirs.a, env: agentEnv(keyBlob) });
    agents.b = startAgent({ bundle, stateDir: stateDirs.b, env: agentEnv(keyBlob) });
    await Promise.all([agents.a.waitFor(/INFO\s+connected/), agents.b.waitFor(/INFO\s+connected/)]);
    nodeIds.a = (await identity(stateDirs.a)).node_id;
    nodeIds.b = (await identity(stateDirs.b)).node_id;
    expect(nodeIds.a).not.toBe(nodeIds.b);
    await Promise.all([waitForStatus(nodeIds.a, "healthy"), waitForStatus(nodeIds.b, "healthy")]);
    expect(Object.keys(await nodeStatuses()).sort()).toEqual([nodeIds.a, nodeIds.b].sort());

    for (const id of [nodeIds.a, nodeIds.b]) {
      // `healthy` comes with the agent's hello; the metrics with its first heartbeat, just after.
      const host = await waitUntil("the first heartbeat's metrics", async () => {
        const res = await api("GET", `/api/v1/nodes/${id}/metrics/host`);
        return res.status === 503 ? undefined : res;
      });
      expect(host.status).toBe(200);
      // The contract's HostMetricsResponse is bare (routes-rest), not in `{data, meta}`.
      expect(host.json.node_id).toBe(id);
      expect(host.json.cluster_name).toBe(CLUSTER);
      expect(host.json.cpu.cores).toBeGreaterThan(0);
      expect(host.json.memory.total_bytes).toBeGreaterThan(0);
      expect(host.json.disk.total_bytes).toBeGreaterThan(0);
      expect(host.json.uptime.seconds).toBeGreaterThan(0);
      const agent = await api("GET", `/api/v1/nodes/${id}/metrics/agent`);
      expect(agent.status).toBe(200);
      expect(agent.json.data.application.version).toBe(agentVersion);
      expect(agent.json.data.health_check.status).toBe("passing");
    }
    const key = await api("GET", `/api/v1/enrollment_keys/${keyId}`);
    expect(key.json.data.uses_remaining).toBe(0);
  });

  it("refuses a third enrolment with the spent key: clear message, exit 3", async () => {
    const third = await runAgentToExit({ bundle, stateDir: stateDirs.c, env: agentEnv(keyBlob) });
    expect(third.code).toBe(3);
    expect(third.stderr).toMatch(/enrolment failed: .*no uses left/i);
    expect(Object.keys(await nodeStatuses())).toHaveLength(2);
  });

  it("marks a SIGKILLed agent's node unreachable within the stale window", async () => {
    agents.a!.child.kill("SIGKILL");
    const exit = await agents.a!.exited;
    expect(exit.signal).toBe("SIGKILL");
    const took = await waitForStatus(nodeIds.a, "unreachable", STALE_WINDOW_MS + 10_000);
    expect(took).toBeLessThanOrEqual(STALE_WINDOW_MS + 3000);
    expect((await nodeStatuses())[nodeIds.b]).toBe("healthy");
  });

  it("brings a restarted agent back healthy with the same node id, without spending a key use", async () => {
    // The key is spent: only the saved identity can get this agent back in.
    agents.a = startAgent({ bundle, stateDir: stateDirs.a, env: agentEnv(keyBlob) });
    await agents.a.waitFor(/INFO\s+connected/);
    expect(agents.a.output()).not.toMatch(/enrolling/);
    expect((await identity(stateDirs.a)).node_id).toBe(nodeIds.a);
    await waitForStatus(nodeIds.a, "healthy");
    expect(Object.keys(await nodeStatuses()).sort()).toEqual([nodeIds.a, nodeIds.b].sort());
    const key = await api("GET", `/api/v1/enrollment_keys/${keyId}`);
    expect(key.status).toBe(200);
    expect(key.json.data.uses_remaining).toBe(0);
  });

  it("`outpost-agent status` shows node id, cluster, server, connection, last heartbeat and server round trip", async () => {
    // One heartbeat interval after connecting, last_heartbeat_at is certainly set.
    await new Promise((r) => setTimeout(r, HEARTBEAT_SECONDS * 1000 + 200));
    const status = await runAgentToExit({ bundle, stateDir: stateDirs.a, args: ["status"] });
    expect(status.code).toBe(0);
    const rows = Object.fromEntries(
      status.stdout
        .trim()
        .split("\n")
        .map((line) => [line.slice(0, 16).replace(/:\s*$/, ""), line.slice(16)]),
    );
    expect(rows["node id"]).toBe(nodeIds.a);
    expect(rows.cluster).toBe(CLUSTER);
    expect(rows.server).toBe(stack.url);
    expect(rows.connection).toMatch(new RegExp(`^connected since \\S+ \\(pid ${agents.a!.pid}\\)$`));
    expect(rows["last heartbeat"]).toMatch(/^\d{4}-\d\d-\d\dT\S+Z \(\d+ s ago\)$/);
    // The first heartbeat is followed by an application ping through the node's Durable Object.
    expect(rows["server rtt"]).toMatch(/^\d+ ms \(ping through the node's session\)$/);
  });

  it("SIGTERM stops an agent with exit 0 and its node turns unreachable", async () => {
    agents.b!.child.kill("SIGTERM");
    const exit = await agents.b!.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    await waitForStatus(nodeIds.b, "unreachable", 10_000);
    expect((await nodeStatuses())[nodeIds.a]).toBe("healthy");
  });

  it("deleting a node through the API makes its connected agent exit with code 4", async () => {
    const del = await api("DELETE", `/api/v1/nodes/${nodeIds.a}`);
    expect(del.status).toBe(204);
    const exit = await Promise.race([
      agents.a!.exited,
      new Promise<never>((_, rej) => setTimeout(() => rej(new Error("agent did not exit")), 15_000)),
    ]);
    expect(exit).toEqual({ code: 4, signal: null });
    expect(agents.a!.stderr()).toMatch(/deleted/);
    expect((await api("GET", `/api/v1/nodes/${nodeIds.a}`)).status).toBe(404);
  });
});
