import { readFile, stat, writeFile } from "node:fs/promises";
import { arch } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NODE_ID_NAMESPACE, uuidV5 } from "../../../agent/identity";
import {
  buildBundle,
  type FakeServer,
  fakeMachineId,
  keyBlob,
  runAgentCommand,
  startFakeServer,
  tempDir,
} from "./helpers";

const MACHINE_ID = "3d1219c7c4c5404aaa1f6d2a48adfda4";

let bundle: string;
let server: FakeServer;
// Per request number: what the stand-in server answers (default 201).
let script: ((body: any, n: number) => { status: number; body: unknown }) | undefined;

const created = (body: any) => ({
  status: 201,
  body: {
    data: {
      id: body.node_id,
      cluster_name: "edge-a",
      api_token: `token-for-${body.node_id}`,
      node_name: `node-${body.node_id}`,
      vpn_hostname: `node-${body.node_id}.edge-a.nm.internal`,
      id_type: body.id_type,
    },
    meta: { request_id: "r", timestamp: new Date().toISOString() },
  },
});

beforeAll(async () => {
  bundle = await buildBundle("1.2.3-test");
  server = await startFakeServer({ enroll: (body, n) => script?.(body, n) ?? created(body) });
});
afterAll(() => server.close());

describe("node id", () => {
  it("is UUIDv5 (RFC 4122 test vector) of the machine id under a fixed namespace", () => {
    expect(uuidV5("www.example.com", "6ba7b810-9dad-11d1-80b4-00c04fd430c8")).toBe(
      "2ed6657d-e927-568b-95e1-2665a8aea6a2",
    );
    expect(NODE_ID_NAMESPACE).toBe("c0fd1f2d-50ab-4f47-b7f8-134b8da2bcf1");
  });
});

describe("enrolment (bundled agent on Node 20 against a stand-in server)", () => {
  it("enrols once with a persistent id, saves a private identity, and never enrols again", async () => {
    script = undefined;
    const dir = await tempDir();
    const stateDir = join(dir, "state");
    const env = {
      OUTPOST_STATE_DIR: stateDir,
      OUTPOST_MACHINE_ID_FILE: await fakeMachineId(dir, MACHINE_ID),
      ENROLLMENT_KEY: keyBlob(`${server.url}/`, "secret-1"),
    };
    const before = server.enrollRequests.length;
    const first = await runAgentCommand(bundle, ["enroll"], env);
    const nodeId = uuidV5(MACHINE_ID, NODE_ID_NAMESPACE);
    expect(first).toMatchObject({
      code: 0,
      stdout: `enrolled: node ${nodeId} in cluster edge-a (${server.url})\n`,
    });
    expect(server.enrollRequests.slice(before)).toEqual([
      {
        key: "secret-1",
        node_id: nodeId,
        id_type: "persistent",
        hostname: expect.any(String),
        platform: "linux",
        arch: arch(),
        version: "1.2.3-test",
      },
    ]);
    const identity = JSON.parse(await readFile(join(stateDir, "identity.json"), "utf8"));
    expect(identity).toEqual({
      node_id: nodeId,
      id_type: "persistent",
      server: server.url,
      api_token: `token-for-${nodeId}`,
      cluster_name: "edge-a",
      enrolled_at: expect.any(String),
    });
    expect((await stat(join(stateDir, "identity.json"))).mode & 0o777).toBe(0o600);
    expect((await stat(stateDir)).mode & 0o777).toBe(0o700);

    const again = await runAgentCommand(bundle, ["enroll"], env);
    expect(again).toMatchObject({
      code: 0,
      stdout: `already enrolled: node ${nodeId} in cluster edge-a (${server.url})\n`,
    });
    expect(server.enrollRequests.length).toBe(before + 1);
  });

  it("removes ENROLLMENT_KEY from the installer's environment file once enrolled, keeping other lines", async () => {
    script = undefined;
    const dir = await tempDir();
    const envFile = join(dir, "env");
    const blob = keyBlob(`${server.url}/`, "secret-env");
    await writeFile(envFile, `OUTPOST_LOG_LEVEL=debug\nENROLLMENT_KEY=${blob}\n`, { mode: 0o600 });
    const result = await runAgentCommand(bundle, ["enroll"], {
      OUTPOST_STATE_DIR: join(dir, "state"),
      OUTPOST_MACHINE_ID_FILE: await fakeMachineId(dir, "9d1219c7c4c5404aaa1f6d2a48adfda4"),
      OUTPOST_ENV_FILE: envFile,
      ENROLLMENT_KEY: blob,
    });
    expect(result.code).toBe(0);
    expect(await readFile(envFile, "utf8")).toBe("OUTPOST_LOG_LEVEL=debug\n");
    expect((await stat(envFile)).mode & 0o777).toBe(0o600);
  });

  it("stops at once with exit 3 when the server refuses the key (no retry)", async () => {
    script = () => ({
      status: 409,
      body: { error: { code: "conflict", message: "Cluster edge-a is full", details: {} } },
    });
    const dir = await tempDir();
    const before = server.enrollRequests.length;
    const result = await runAgentCommand(bundle, ["run"], {
      OUTPOST_STATE_DIR: join(dir, "state"),
      OUTPOST_MACHINE_ID_FILE: await fakeMachineId(dir),
      ENROLLMENT_KEY: keyBlob(server.url),
    });
    expect(result.code).toBe(3);
    expect(result.stderr).toContain("enrolment failed: Cluster edge-a is full");
    expect(server.enrollRequests.length).toBe(before + 1);
    await expect(stat(join(dir, "state", "identity.json"))).rejects.toThrow();
  });

  it("retries a 5xx, and keeps a random id across attempts and restarts", async () => {
    script = (body, n) =>
      n % 2 === 1 ? { status: 503, body: { error: { message: "busy" } } } : created(body);
    const dir = await tempDir();
    const stateDir = join(dir, "state");
    server.enrollRequests.length = 0;
    const result = await runAgentCommand(bundle, ["enroll"], {
      OUTPOST_STATE_DIR: stateDir,
      OUTPOST_ID_TYPE: "random",
      ENROLLMENT_KEY: keyBlob(server.url),
    });
    expect(result.code).toBe(0);
    expect(server.enrollRequests).toHaveLength(2);
    const [a, b] = server.enrollRequests;
    expect(a.node_id).toBe(b.node_id);
    expect(a.id_type).toBe("random");
    expect((await readFile(join(stateDir, "node-id"), "utf8")).trim()).toBe(a.node_id);
    const identity = JSON.parse(await readFile(join(stateDir, "identity.json"), "utf8"));
    expect(identity).toMatchObject({ node_id: a.node_id, id_type: "random" });

    // Another machine (state dir) gets another random id.
    script = undefined;
    await runAgentCommand(bundle, ["enroll"], {
      OUTPOST_STATE_DIR: join(dir, "other"),
      OUTPOST_ID_TYPE: "random",
      ENROLLMENT_KEY: keyBlob(server.url),
    });
    expect(server.enrollRequests[2].node_id).not.toBe(a.node_id);
  });

  it("waits out a 429's Retry-After before it tries again (a rate-limited burst does not spend its attempts)", async () => {
    const at: number[] = [];
    script = (body, n) => {
      at.push(Date.now());
      return n === 1
        ? {
            status: 429,
            body: { error: { code: "rate_limited", message: "slow down" } },
            headers: { "retry-after": "2" },
          }
        : created(body);
    };
    server.enrollRequests.length = 0;
    const dir = await tempDir();
    const result = await runAgentCommand(bundle, ["enroll"], {
      OUTPOST_STATE_DIR: join(dir, "state"),
      OUTPOST_ID_TYPE: "random",
      ENROLLMENT_KEY: keyBlob(server.url),
    });
    expect(result.code).toBe(0);
    expect(at).toHaveLength(2);
    // The agent's own first backoff is about a second; the server asked for two.
    expect(at[1] - at[0]).toBeGreaterThanOrEqual(2000);
  });

  it("explains a missing machine id (exit 2)", async () => {
    const dir = await tempDir();
    const result = await runAgentCommand(bundle, ["enroll"], {
      OUTPOST_STATE_DIR: join(dir, "state"),
      OUTPOST_MACHINE_ID_FILE: join(dir, "no-such-machine-id"),
      ENROLLMENT_KEY: keyBlob(server.url),
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /cannot derive a persistent node id: .*no-such-machine-id not found \(set OUTPOST_ID_TYPE=random/,
    );
  });
});
