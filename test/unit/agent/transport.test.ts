// What the agent accepts from the network (review M2, L6): plain http only to loopback unless
// OUTPOST_ALLOW_INSECURE_HTTP=1 (at boot for the enrollment key, before connecting for a saved
// identity), and WebSocket messages of at most 8 MiB from a real `ws` peer.
import { afterEach, describe, expect, it } from "vitest";
import { type WebSocket, WebSocketServer } from "ws";
import { ConfigError, loadInvocation } from "../../../agent/config";
import { AgentConnection } from "../../../agent/connection";
import { saveIdentity } from "../../../agent/identity";
import type { Logger } from "../../../agent/log";
import { createCounters } from "../../../agent/metrics";
import { obtainIdentity } from "../../../agent/run";
import { clampServerHeartbeat, MAX_WS_PAYLOAD_BYTES, plainHttpProblem } from "../../../agent/transport";
import { isLoopbackHostname } from "../../../src/protocol/loopback";
import { keyBlob, tempDir } from "./helpers";

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };
const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0)) await fn();
});

describe("plain http", () => {
  it.each([
    "https://outpost.example.com",
    "http://127.0.0.1:8787",
    "http://127.1.2.3",
    "http://localhost:8787/",
    "http://api.localhost",
    "http://[::1]:8787",
  ])("accepts %s", (server) => {
    expect(plainHttpProblem(server, false)).toBeNull();
  });

  it.each([
    "http://outpost.example.com",
    "http://10.0.0.5:8787",
    "http://localhost.example.com",
    "http://[::2]",
  ])("refuses %s unless allowed", (server) => {
    expect(plainHttpProblem(server, false)).toMatch(
      /^refusing plain http:\/\/ server .*unencrypted.*OUTPOST_ALLOW_INSECURE_HTTP=1/,
    );
    expect(plainHttpProblem(server, true)).toBeNull();
  });

  it("refuses other schemes whatever the opt-in", () => {
    expect(plainHttpProblem("ftp://x", true)).toMatch(/not an http\(s\) URL/);
    expect(isLoopbackHostname("127.0.0.256")).toBe(false);
  });

  it("refuses an enrollment key naming a plain http server at boot, with one clear line", () => {
    const env = { OUTPOST_STATE_DIR: "/tmp/x", ENROLLMENT_KEY: keyBlob("http://outpost.example.com", "k") };
    expect(() => loadInvocation(["run"], env)).toThrow(ConfigError);
    expect(() => loadInvocation(["run"], env)).toThrow(
      /^ENROLLMENT_KEY names a server the agent will not use: refusing plain http:\/\/ server http:\/\/outpost\.example\.com/,
    );
    const allowed = loadInvocation(["run"], { ...env, OUTPOST_ALLOW_INSECURE_HTTP: "1" });
    expect(allowed.kind === "command" && allowed.config.allowInsecureHttp).toBe(true);
    expect(() => loadInvocation(["run"], { ...env, OUTPOST_ALLOW_INSECURE_HTTP: "yes" })).toThrow(
      /OUTPOST_ALLOW_INSECURE_HTTP must be 1 or 0/,
    );
    const local = loadInvocation(["run"], { ...env, ENROLLMENT_KEY: keyBlob("http://127.0.0.1:8787", "k") });
    expect(local.kind).toBe("command");
  });

  it("refuses a saved identity on a plain http server before connecting", async () => {
    const stateDir = await tempDir();
    await saveIdentity(stateDir, {
      node_id: "6f1d5e0c-3b8a-4c55-9a4e-0b7e2f1a9c3d",
      id_type: "random",
      server: "http://outpost.example.com",
      api_token: "t",
      cluster_name: "edge",
      enrolled_at: new Date().toISOString(),
    });
    const invocation = loadInvocation(["run"], { OUTPOST_STATE_DIR: stateDir });
    if (invocation.kind !== "command") throw new Error("expected a command");
    await expect(obtainIdentity(invocation.config, quiet)).rejects.toThrow(/refusing plain http/);
    const allowed = { ...invocation.config, allowInsecureHttp: true };
    expect((await obtainIdentity(allowed, quiet)).identity.server).toBe("http://outpost.example.com");
  });
});

describe("server-sent heartbeat interval", () => {
  it("is clamped to 5-3600 s, never above the operator's shorter setting's floor", () => {
    expect(clampServerHeartbeat(2 ** 31, 15)).toBe(3600);
    expect(clampServerHeartbeat(1, 15)).toBe(5);
    expect(clampServerHeartbeat(30, 15)).toBe(30);
    expect(clampServerHeartbeat(1, 2)).toBe(2);
    expect(clampServerHeartbeat(0, 15)).toBeNull();
    expect(clampServerHeartbeat(Number.NaN, 15)).toBeNull();
  });
});

describe("WebSocket payload limit", () => {
  it("drops a connection whose server sends more than 8 MiB in one message, and reconnects", async () => {
    const server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    await new Promise((resolve) => server.once("listening", resolve));
    const sockets: WebSocket[] = [];
    let connections = 0;
    server.on("connection", (socket) => {
      connections++;
      sockets.push(socket);
      if (connections === 1) socket.send("x".repeat(MAX_WS_PAYLOAD_BYTES + 1));
    });
    cleanup.push(
      () =>
        new Promise((resolve) => {
          for (const s of sockets) s.terminate();
          server.close(resolve);
        }),
    );
    const { port } = server.address() as { port: number };
    const frames: unknown[] = [];
    const closes: number[] = [];
    const conn = new AgentConnection({
      server: `http://127.0.0.1:${port}`,
      token: "t",
      log: quiet,
      counters: createCounters(),
      onOpen: () => {},
      onFrame: (frame) => frames.push(frame),
      onDisconnect: () => closes.push(Date.now()),
      onFatal: () => {},
      minReconnectDelayMs: 20,
      maxReconnectDelayMs: 50,
    });
    cleanup.push(() => conn.close(1000, "test over", 200));
    for (let i = 0; i < 250 && connections < 2; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(connections).toBe(2);
    expect(closes.length).toBeGreaterThanOrEqual(1);
    expect(frames).toEqual([]);
  });
});
