// The agent's half-open check against a real WebSocket peer that answers pings late or not at
// all: a slow pong within the timeout keeps the connection, a missing one reconnects.
import { afterEach, describe, expect, it } from "vitest";
import { type WebSocket, WebSocketServer } from "ws";
import { AgentConnection } from "../../../agent/connection";
import type { Logger } from "../../../agent/log";
import { createCounters } from "../../../agent/metrics";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };
const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0)) await fn();
});

/** A peer that answers pings only when told to, after `delayMs`. */
async function peer() {
  const server = new WebSocketServer({ host: "127.0.0.1", port: 0, autoPong: false });
  await new Promise((resolve) => server.once("listening", resolve));
  const sockets: WebSocket[] = [];
  const state = { answer: true, delayMs: 0, connections: 0 };
  server.on("connection", (socket) => {
    state.connections++;
    sockets.push(socket);
    socket.on("ping", (data) => {
      if (state.answer) setTimeout(() => socket.pong(data), state.delayMs);
    });
  });
  cleanup.push(
    () =>
      new Promise((resolve) => {
        for (const s of sockets) s.terminate();
        server.close(resolve);
      }),
  );
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, state };
}

async function connect(url: string, pongTimeoutMs: number) {
  const counters = createCounters();
  let opened = 0;
  const conn = new AgentConnection({
    server: url,
    token: "t",
    log: quiet,
    counters,
    onOpen: () => opened++,
    onFrame: () => {},
    onDisconnect: () => {},
    onFatal: () => {},
    minReconnectDelayMs: 50,
    maxReconnectDelayMs: 100,
    pongTimeoutMs,
  });
  cleanup.push(() => conn.close(1000, "test over", 200));
  for (let i = 0; i < 100 && opened === 0; i++) await sleep(20);
  expect(opened).toBe(1);
  return { conn, counters };
}

describe("agent connection probe", () => {
  it("keeps a connection whose pongs come late but within the timeout", async () => {
    const server = await peer();
    const { conn, counters } = await connect(server.url, 1000);
    conn.probe();
    await sleep(50); // the first pong: the server is known to answer
    server.state.delayMs = 400;
    for (let i = 0; i < 8; i++) {
      conn.probe(); // a heartbeat every 100 ms, each pong 400 ms late
      await sleep(100);
    }
    expect(counters.reconnects).toBe(0);
    expect(server.state.connections).toBe(1);
  });

  it("reconnects once a ping has gone unanswered for the timeout", async () => {
    const server = await peer();
    const { conn, counters } = await connect(server.url, 300);
    conn.probe();
    await sleep(50);
    server.state.answer = false;
    conn.probe();
    await sleep(150);
    conn.probe(); // 150 ms unanswered: still within the timeout
    expect(server.state.connections).toBe(1);
    await sleep(200);
    conn.probe(); // 350 ms unanswered
    for (let i = 0; i < 100 && server.state.connections < 2; i++) await sleep(20);
    expect(server.state.connections).toBe(2);
    for (let i = 0; i < 50 && counters.reconnects < 1; i++) await sleep(20);
    expect(counters.reconnects).toBe(1);
  });
});
