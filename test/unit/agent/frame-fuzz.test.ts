// The agent's frame handling fuzzed: garbage frames from the server side never crash the
// agent and never run anything. Pure parser properties first, then a real agent process.
import { existsSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import fc from "fast-check";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { parseAgentFrame, parseServerFrame } from "../../../src/protocol/frames";
import {
  type AgentProcess,
  buildBundle,
  startAgent,
  startFakeServer,
  tempDir,
  writeIdentity,
} from "./helpers";

const SEED = Number(process.env.FUZZ_SEED ?? 20261123);

/** JSON-ish values shaped like frames: right and wrong keys, types and sizes. */
const frameLike = fc.oneof(
  fc.string(),
  fc.json(),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc
    .record(
      {
        v: fc.oneof(fc.constant(1), fc.integer(), fc.string(), fc.constant(null)),
        type: fc.oneof(
          fc.constantFrom(
            "exec",
            "cancel",
            "ack",
            "config",
            "self_update",
            "error",
            "ping",
            "pong",
            "hello",
            "result",
          ),
          fc.string(),
        ),
        execution_id: fc.oneof(
          fc.string(),
          fc.integer(),
          fc.constant(null),
          fc.string({ minLength: 200, maxLength: 300 }),
        ),
        command: fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.array(fc.string())),
        timeout_ms: fc.oneof(fc.integer(), fc.double(), fc.string(), fc.constant(null)),
        url: fc.string(),
        sha256: fc.oneof(fc.string(), fc.stringMatching(/^[0-9a-f]{64}$/)),
      },
      { requiredKeys: [] },
    )
    .map((o) => JSON.stringify(o)),
);

describe("frame parsers", () => {
  it("never throw, and whatever they accept is a v1 frame", () => {
    fc.assert(
      fc.property(frameLike, (text) => {
        for (const parse of [parseServerFrame, parseAgentFrame]) {
          const parsed = parse(text);
          if ("frame" in parsed) expect(parsed.frame.v).toBe(1);
          else expect(typeof parsed.error).toBe("string");
        }
      }),
      { seed: SEED, numRuns: 5000 },
    );
  });

  it("reject an exec without a string command or a valid id", () => {
    for (const bad of [
      { v: 1, type: "exec", execution_id: "x", command: 1, timeout_ms: null },
      { v: 1, type: "exec", execution_id: "", command: "true", timeout_ms: null },
      { v: 2, type: "exec", execution_id: "x", command: "true", timeout_ms: null },
      { v: 1, type: "exec", execution_id: "x", command: "true", timeout_ms: -1 },
    ]) {
      expect(parseServerFrame(JSON.stringify(bad))).toHaveProperty("error");
    }
  });
});

describe("a real agent fed garbage", () => {
  let bundle: string;
  const cleanup: (() => unknown)[] = [];
  beforeAll(async () => {
    bundle = await buildBundle("3.0.0-fuzz");
  });
  afterEach(async () => {
    for (const fn of cleanup.splice(0)) await fn();
  });

  it("survives thousands of invalid frames, runs nothing, and still answers ping", async () => {
    const server = await startFakeServer();
    cleanup.push(() => server.close());
    const stateDir = await tempDir();
    await writeIdentity(stateDir, server.url, "node-token-1");
    const agent: AgentProcess = startAgent(bundle, ["run"], {
      OUTPOST_STATE_DIR: stateDir,
      OUTPOST_HEARTBEAT_INTERVAL: "1",
    });
    cleanup.push(() => agent.child.exitCode === null && agent.child.kill("SIGKILL"));
    const peer = await server.nextPeer(10_000);
    await peer.next("hello");

    const samples = fc.sample(frameLike, { seed: SEED, numRuns: 2000 });
    let sentInvalid = 0;
    for (const text of samples) {
      if ("frame" in parseServerFrame(text)) continue; // only garbage here
      peer.ws.send(text);
      sentInvalid++;
    }
    peer.ws.send(Buffer.from([0xff, 0x00, 0x13])); // binary junk too
    expect(sentInvalid).toBeGreaterThan(1000);

    peer.send({ type: "ping", id: "after-garbage", sent_at: 42 });
    const pong = await peer.next("pong", (f) => f.id === "after-garbage", 15_000);
    expect(pong.sent_at).toBe(42);
    expect(agent.child.exitCode).toBeNull();
    const journal = join(stateDir, "executions");
    expect(existsSync(journal) ? await readdir(journal) : []).toEqual([]);
    expect(peer.frames.some((f) => f.type === "ack" || f.type === "result")).toBe(false);
  }, 60_000);
});
