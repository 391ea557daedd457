// Issue 25: the idle agent does not load node:crypto (~1.1 MB resident, docs/agent-footprint.md)
// nor node:readline (~0.4 MB).
// The bundle against the stand-in peer: connect (the WebSocket handshake's key and SHA-1), heartbeats
// (masked frames), a ping and a command; then the built-in modules it loaded are listed.
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { buildBundle, type FakeServer, startAgent, startFakeServer, tempDir, writeIdentity } from "./helpers";

let bundle: string;
let server: FakeServer;

beforeAll(async () => {
  bundle = await buildBundle();
  server = await startFakeServer();
}, 120_000);
afterAll(() => server?.close());

it("connects, heartbeats and runs a command without loading node:crypto or node:readline", async () => {
  const dir = await tempDir();
  const list = join(dir, "modules.json");
  const preload = join(dir, "modules.mjs");
  await writeFile(
    preload,
    `import { writeFileSync } from "node:fs";
setInterval(() => writeFileSync(${JSON.stringify(list)}, JSON.stringify(process.moduleLoadList)), 200).unref();\n`,
  );
  const stateDir = await tempDir();
  await writeIdentity(stateDir, server.url, "node-token-1");
  const agent = startAgent(bundle, ["run"], {
    OUTPOST_STATE_DIR: stateDir,
    OUTPOST_HEARTBEAT_INTERVAL: "1",
    NODE_OPTIONS: `--import=${preload}`,
  });
  try {
    const peer = await server.nextPeer(10_000);
    await peer.next("hello");
    await peer.next("heartbeat");
    peer.send({ type: "ping", id: "p-1", sent_at: 1 });
    await peer.next("pong");
    const id = "00000000-0000-4000-8000-0000000000c1";
    peer.send({ type: "exec", execution_id: id, command: "echo hi", timeout_ms: 10_000 });
    expect(await peer.next("result", (f) => f.execution_id === id)).toMatchObject({ exit_code: 0 });
    await peer.next("heartbeat");
    await new Promise((r) => setTimeout(r, 500));
    const loaded: string[] = JSON.parse(await readFile(list, "utf8"));
    expect(loaded).toContain("NativeModule child_process");
    expect(loaded.filter((m) => /^NativeModule (crypto|internal\/crypto\/|readline)/.test(m))).toEqual([]);
  } finally {
    agent.child.kill("SIGKILL");
    await agent.exited;
  }
}, 60_000);
