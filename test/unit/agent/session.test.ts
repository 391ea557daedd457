// The bundled agent on Node 20 against a minimal stand-in WebSocket peer: protocol,
// commands at most once, result re-delivery, close codes and graceful shutdown.
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { INTERRUPTED_OUTPUT } from "../../../agent/journal";
import {
  type AgentProcess,
  buildBundle,
  runAgentCommand,
  startAgent,
  startFakeServer,
  tempDir,
  writeIdentity,
} from "./helpers";

// Execution ids are UUIDs on the wire (src/protocol/frames.ts).
const E1 = "00000000-0000-4000-8000-000000000001";
const E2 = "00000000-0000-4000-8000-000000000002";
const E3 = "00000000-0000-4000-8000-000000000003";
const E4 = "00000000-0000-4000-8000-000000000004";
const E9 = "00000000-0000-4000-8000-000000000009";

let bundle: string;
const cleanup: (() => unknown)[] = [];

beforeAll(async () => {
  bundle = await buildBundle("2.0.0-test");
});

afterEach(async () => {
  for (const fn of cleanup.splice(0)) await fn();
});

async function setup(token = "node-token-1") {
  const server = await startFakeServer();
  const stateDir = await tempDir();
  const nodeId = await writeIdentity(stateDir, server.url, token);
  cleanup.push(() => server.close());
  return { server, stateDir, nodeId };
}

function start(stateDir: string, env: Record<string, string> = {}): AgentProcess {
  const agent = startAgent(bundle, ["run"], {
    OUTPOST_STATE_DIR: stateDir,
    OUTPOST_HEARTBEAT_INTERVAL: "1",
    OUTPOST_LOG_LEVEL: "debug",
    ...env,
  });
  cleanup.push(() => {
    if (agent.child.exitCode === null && agent.child.signalCode === null) agent.child.kill("SIGKILL");
  });
  return agent;
}

async function stop(agent: AgentProcess) {
  agent.child.kill("SIGTERM");
  return agent.exited;
}

const readJson = async (path: string) => JSON.parse(await readFile(path, "utf8"));

describe("agent session (bundled, Node 20)", () => {
  it("authenticates, says hello, heartbeats, answers ping and config, runs a command once, and stops cleanly", async () => {
    const { server, stateDir, nodeId } = await setup();
    const agent = start(stateDir);
    const peer = await server.nextPeer();
    expect(peer.request.headers.authorization).toBe("Bearer node-token-1");
    expect(peer.request.headers["user-agent"]).toBe("outpost-agent/2.0.0-test");

    const hello = await peer.next("hello");
    expect(hello).toMatchObject({
      agent_version: "2.0.0-test",
      platform: "linux",
      capabilities: expect.arrayContaining(["exec", "cancel", "output", "self_update"]),
      heartbeat_interval_seconds: 1,
    });
    const heartbeat = await peer.next("heartbeat");
    expect(heartbeat.host.cpu.cores).toBeGreaterThan(0);
    expect(heartbeat.host.memory.total_bytes).toBeGreaterThan(heartbeat.host.memory.available_bytes);
    expect(heartbeat.host.disk.total_bytes).toBeGreaterThan(0);
    expect(heartbeat.agent).toMatchObject({ version: "2.0.0-test", reconnects: 0, commands_run: 0 });
    expect(heartbeat.checks).toEqual([expect.objectContaining({ name: "disk" })]);
    await peer.next("heartbeat"); // and again, one interval later

    peer.send({ type: "ping", id: "p-1", sent_at: 1234 });
    expect(await peer.next("pong")).toMatchObject({ id: "p-1", sent_at: 1234 });

    peer.send({ type: "config", node_id: nodeId, cluster_name: "edge-b", heartbeat_interval_seconds: 1 });
    let status = "";
    await expect
      .poll(
        async () => {
          const r = await runAgentCommand(bundle, ["status"], { OUTPOST_STATE_DIR: stateDir });
          status = r.stdout;
          return r.code === 0 && status.includes("edge-b");
        },
        { timeout: 5000 },
      )
      .toBe(true);
    expect(status).toContain(`node id:        ${nodeId}`);
    expect(status).toMatch(/connection: +connected since/);
    expect(status).toMatch(/last heartbeat: +\d{4}-/);
    expect((await readJson(join(stateDir, "identity.json"))).cluster_name).toBe("edge-b");

    // An invalid frame is logged, not fatal.
    peer.ws.send(JSON.stringify({ v: 1, type: "launch_missiles" }));

    const marker = join(stateDir, "marker");
    const command = `echo hello; echo oops >&2; echo ran >> ${marker}`;
    peer.send({ type: "exec", execution_id: E1, command, timeout_ms: 10_000 });
    await peer.next("ack", (f) => f.execution_id === E1);
    const result = await peer.next("result", (f) => f.execution_id === E1);
    expect(result).toMatchObject({ exit_code: 0, output: "hello\noops\n", truncated: false });
    const streamed = peer.frames.filter((f) => f.type === "output" && f.execution_id === E1);
    expect(streamed.map((f) => (f.type === "output" ? f.chunk : "")).join("")).toBe("hello\noops\n");

    // The same exec again (a server retry): acked and answered from the journal, not re-run.
    peer.send({ type: "exec", execution_id: E1, command, timeout_ms: 10_000 });
    await peer.next("ack", (f) => f.execution_id === E1);
    expect(await peer.next("result", (f) => f.execution_id === E1)).toMatchObject({
      output: "hello\noops\n",
    });
    expect(await readFile(marker, "utf8")).toBe("ran\n");

    peer.send({ type: "ack", execution_id: E1 });
    await expect
      .poll(async () => (await readJson(join(stateDir, "executions", `${E1}.json`))).acked_at, {
        timeout: 3000,
      })
      .toBeGreaterThan(0);

    const { code } = await stop(agent);
    expect(code).toBe(0);
    expect(await peer.closed).toMatchObject({ code: 1000 });
    expect(peer.invalid).toEqual([]);
    expect(agent.stderr()).toContain("ignoring an invalid frame from the server");
    expect((await readJson(join(stateDir, "status.json"))).connection).toBe("stopped");
    expect(existsSync(join(stateDir, "agent.pid"))).toBe(false);
  });

  it("reports a command the previous agent started as interrupted, and never runs it", async () => {
    const { server, stateDir } = await setup();
    const marker = join(stateDir, "marker");
    await mkdir(join(stateDir, "executions"), { recursive: true });
    const entry = {
      execution_id: E9,
      command: `echo ran >> ${marker}`,
      timeout_ms: null,
      state: "started",
      started_at: Date.now() - 60_000,
    };
    await writeFile(join(stateDir, "executions", `${E9}.json`), JSON.stringify(entry));
    const agent = start(stateDir);
    const peer = await server.nextPeer();
    await peer.next("hello");
    expect(await peer.next("result", (f) => f.execution_id === E9)).toMatchObject({
      exit_code: 125,
      output: INTERRUPTED_OUTPUT,
    });
    peer.send({ type: "exec", execution_id: E9, command: entry.command, timeout_ms: null });
    await peer.next("ack", (f) => f.execution_id === E9);
    expect(await peer.next("result", (f) => f.execution_id === E9)).toMatchObject({ exit_code: 125 });
    expect(existsSync(marker)).toBe(false);
    expect((await stop(agent)).code).toBe(0);
  });

  it("re-sends unacknowledged results after reconnecting, and keeps reconnecting when replaced", async () => {
    const { server, stateDir } = await setup();
    const agent = start(stateDir);
    const first = await server.nextPeer();
    await first.next("hello");
    first.send({ type: "exec", execution_id: E2, command: "echo two", timeout_ms: null });
    await first.next("result", (f) => f.execution_id === E2);
    first.ws.close(4000, "replaced by a newer connection");

    const second = await server.nextPeer(6000);
    await second.next("hello");
    const resent = await second.next("result", (f) => f.execution_id === E2);
    expect(resent).toMatchObject({ exit_code: 0, output: "two\n" });
    expect(second.frames.indexOf(resent)).toBeGreaterThan(second.frames.findIndex((f) => f.type === "hello"));
    expect((await second.next("heartbeat")).agent.reconnects).toBe(1);
    expect(agent.stderr()).toContain("another agent with this node id connected (clone?)");
    expect((await stop(agent)).code).toBe(0);
  });

  it("cancel reports 143; SIGTERM stops a running command and reports it after the next start", async () => {
    const { server, stateDir } = await setup();
    const agent = start(stateDir);
    const peer = await server.nextPeer();
    await peer.next("hello");
    peer.send({ type: "exec", execution_id: E3, command: "sleep 30", timeout_ms: null });
    await peer.next("ack", (f) => f.execution_id === E3);
    peer.send({ type: "cancel", execution_id: E3 });
    expect(await peer.next("result", (f) => f.execution_id === E3)).toMatchObject({ exit_code: 143 });

    peer.send({ type: "exec", execution_id: E4, command: "sleep 30", timeout_ms: null });
    await peer.next("ack", (f) => f.execution_id === E4);
    const stoppedAt = Date.now();
    expect((await stop(agent)).code).toBe(0);
    expect(Date.now() - stoppedAt).toBeLessThan(5000);
    expect(await peer.closed).toMatchObject({ code: 1000 });

    const again = start(stateDir);
    const next = await server.nextPeer();
    await next.next("hello");
    const result = await next.next("result", (f) => f.execution_id === E4);
    expect(result.exit_code).toBe(125);
    expect(result.output).toContain("the agent stopped while this command was running");
    expect((await stop(again)).code).toBe(0);
  });

  it("refuses to start a second agent on the same state dir (exit 1)", async () => {
    const { server, stateDir } = await setup();
    const agent = start(stateDir);
    await (await server.nextPeer()).next("hello");
    const second = await runAgentCommand(bundle, ["run"], { OUTPOST_STATE_DIR: stateDir });
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/another outpost-agent \(pid \d+\) is already running with this state dir/);
    expect((await stop(agent)).code).toBe(0);
  });

  it("exits 4 without reconnecting when the node was deleted, keeping its state", async () => {
    const { server, stateDir } = await setup();
    const agent = start(stateDir);
    const peer = await server.nextPeer();
    await peer.next("hello");
    peer.ws.close(4002, "node deleted");
    expect((await agent.exited).code).toBe(4);
    expect(agent.stderr()).toContain("this node was deleted from Outpost; exiting");
    expect(server.peers).toHaveLength(1);
    expect(existsSync(join(stateDir, "identity.json"))).toBe(true);
  });

  it("exits 5 when the token is refused, by close code or at the upgrade", async () => {
    const { server, stateDir } = await setup();
    const agent = start(stateDir);
    const peer = await server.nextPeer();
    await peer.next("hello");
    peer.ws.close(4001, "unauthorized");
    expect((await agent.exited).code).toBe(5);

    const revoked = await setup("another-token");
    const refused = start(revoked.stateDir);
    expect((await refused.exited).code).toBe(5);
    expect(refused.stderr()).toContain("the server refused this node's API token");
    expect(revoked.server.peers).toHaveLength(0);
  });
});
