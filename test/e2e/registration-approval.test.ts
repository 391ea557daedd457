// Registration approval (issue 16) with real agent processes against a real stack: an agent that
// enrols with a requires_approval key waits, polling, until an administrator approves it, then
// connects and runs a command; a rejected agent exits with code 6.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type AgentProcess,
  copyBundle,
  runAgentToExit,
  stopAllAgents,
  tempDir,
} from "../support/agent-process";
import {
  type Api,
  apiClient,
  createCommand,
  launchAgent,
  readIdentity,
  tail,
  waitForCommand,
  waitUntil,
} from "../support/command-helpers";
import { type Stack, sharedStack } from "../support/stack";

// The shared stack: names unique to this file.
const CLUSTER = `gated-${crypto.randomUUID().slice(0, 8)}`;
const ELSEWHERE = `elsewhere-${crypto.randomUUID().slice(0, 8)}`;

describe("registration approval with real agents", () => {
  let workDir: string;
  let bundle: string;
  let stack: Stack;
  let api: Api;
  let agent: AgentProcess | undefined;

  async function gatedKey(): Promise<string> {
    const res = await api("POST", `/api/v1/clusters/${CLUSTER}/enrollment_keys`, {
      uses_remaining: 5,
      requires_approval: true,
    });
    expect(res.status).toBe(201);
    return (res.json as { data: { key: string } }).data.key;
  }

  /** The pending registration of this hostname's agent, once it exists. */
  async function pendingRegistration(after: string[]) {
    return waitUntil(
      "a pending registration",
      async () => {
        const res = await api("GET", `/api/v1/node_registrations?status=pending&cluster_name=${CLUSTER}`);
        const rows = (res.json as { data: { id: string; node_id: string }[] }).data;
        return rows.find((r) => !after.includes(r.id));
      },
      { timeoutMs: 20_000 },
    );
  }

  beforeAll(async () => {
    workDir = await tempDir("outpost-e2e-approval-");
    bundle = await copyBundle(workDir);
    stack = await sharedStack();
    api = apiClient(() => stack.url);
    expect((await api("POST", "/api/v1/clusters", { name: CLUSTER })).status).toBe(201);
  }, 120_000);

  afterAll(async () => {
    await stopAllAgents();
    await stack?.stop();
  });

  it("an agent waits for approval, then connects and runs a command", async () => {
    const stateDir = join(workDir, "state-approved");
    agent = launchAgent({ bundle, stateDir, key: await gatedKey(), heartbeatSeconds: 1 });
    await agent.waitFor("registration pending approval");
    const registration = await pendingRegistration([]);
    // Waiting, the agent has no node and no identity.
    expect((await api("GET", `/api/v1/nodes/${registration.node_id}`)).status).toBe(404);
    expect(agent.running()).toBe(true);

    const approved = await api("PATCH", `/api/v1/node_registrations/${registration.id}/approve`, {});
    expect(approved.status).toBe(200);
    await agent.waitFor(/ enrolled node_id=/, { timeoutMs: 30_000 }).catch((err) => {
      throw new Error(`${err.message}\n${tail(agent?.output() ?? "")}`);
    });
    // The agent logs "enrolled" just before it saves its identity.
    const identity = await waitUntil("the saved identity", () =>
      readIdentity(stateDir).catch(() => undefined),
    );
    expect(identity.node_id).toBe(registration.node_id);
    await waitUntil(
      "the approved node healthy",
      async () => {
        const res = await api("GET", `/api/v1/nodes/${registration.node_id}`);
        return (res.json as { data?: { status: string } }).data?.status === "healthy" || undefined;
      },
      { timeoutMs: 30_000 },
    );
    const command = await createCommand(api, {
      command_text: "echo approved-and-running",
      targeting: { type: "nodes", node_ids: [registration.node_id] },
    });
    const [execution] = await waitForCommand(api, command.id);
    expect(execution).toMatchObject({ status: "completed", exit_code: 0 });
    expect(execution.output).toContain("approved-and-running");
  }, 120_000);

  it("a rejected agent exits with code 6 and says why", async () => {
    const stateDir = join(workDir, "state-rejected");
    const key = await gatedKey();
    const before = (
      (await api("GET", `/api/v1/node_registrations?cluster_name=${CLUSTER}&page_size=100`)).json as {
        data: { id: string }[];
      }
    ).data.map((r) => r.id);
    const run = runAgentToExit({
      bundle,
      stateDir,
      env: { OUTPOST_ID_TYPE: "random", ENROLLMENT_KEY: key },
      timeoutMs: 60_000,
    });
    const registration = await pendingRegistration(before);
    expect((await api("PATCH", `/api/v1/node_registrations/${registration.id}/reject`)).status).toBe(200);
    const exit = await run;
    expect(exit.code, exit.output).toBe(6);
    expect(exit.stderr).toContain("Registration rejected by an administrator");
    expect((await api("GET", `/api/v1/nodes/${registration.node_id}`)).status).toBe(404);
  }, 90_000);

  it("enroll --reenroll: the approved node enrols again with its saved token; another cluster's key is refused", async () => {
    const stateDir = join(workDir, "state-approved");
    await agent?.stop();
    const saved = async () =>
      JSON.parse(await readFile(join(stateDir, "identity.json"), "utf8")) as {
        node_id: string;
        api_token: string;
      };
    const before = await saved();
    const plainKey = async (cluster: string) => {
      const res = await api("POST", `/api/v1/clusters/${cluster}/enrollment_keys`, { uses_remaining: 1 });
      expect(res.status).toBe(201);
      return (res.json as { data: { key: string } }).data.key;
    };
    // The takeover rules on main (H1): the saved token is the proof, the node's cluster is kept.
    expect((await api("POST", "/api/v1/clusters", { name: ELSEWHERE })).status).toBe(201);
    const moved = await runAgentToExit({
      bundle,
      stateDir,
      args: ["enroll", "--reenroll"],
      env: { ENROLLMENT_KEY: await plainKey(ELSEWHERE) },
    });
    expect(moved.code, moved.output).toBe(3);
    expect(moved.stderr).toContain("belongs to another cluster");
    const again = await runAgentToExit({
      bundle,
      stateDir,
      args: ["enroll", "--reenroll"],
      env: { ENROLLMENT_KEY: await plainKey(CLUSTER) },
    });
    expect(again.code, again.output).toBe(0);
    expect(again.stdout).toBe(`re-enrolled: node ${before.node_id} in cluster ${CLUSTER} (${stack.url})\n`);
    const after = await saved();
    expect(after.node_id).toBe(before.node_id);
    expect(after.api_token).not.toBe(before.api_token);
    // A copy of the old identity (its token now replaced) cannot re-enrol the node.
    const res = await fetch(`${stack.url}/agent/v1/enroll`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        key: JSON.parse(Buffer.from(await plainKey(CLUSTER), "base64").toString()).key,
        node_id: before.node_id,
        id_type: "random",
        hostname: "thief",
        platform: "linux",
        version: "0.0.1",
        api_token: before.api_token,
      }),
    });
    expect(res.status).toBe(409);
  }, 60_000);
});
