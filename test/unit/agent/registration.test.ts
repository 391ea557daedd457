import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  buildBundle,
  type FakeServer,
  fakeMachineId,
  keyBlob,
  runAgentCommand,
  startFakeServer,
  tempDir,
  writeIdentity,
} from "./helpers";

// Registration approval (issue 16): a 202 makes the agent keep its registration and poll until its
// node arrives (201) or the registration is refused (403 → exit 6). `enroll --reenroll` proves the
// saved node with its token.

let bundle: string;
let server: FakeServer;
let script: ((body: any, n: number) => { status: number; body: unknown }) | undefined;

const REG_ID = "0b6f3f4e-59a4-4c1e-9d0a-2f1e8c7b6a55";
const accepted = (secret?: string) => ({
  status: 202,
  body: {
    data: {
      registration_id: REG_ID,
      ...(secret ? { registration_secret: secret } : {}),
      status: "pending",
      retry_after_seconds: 1,
    },
    meta: { request_id: "r", timestamp: new Date().toISOString() },
  },
});
const created = (body: any) => ({
  status: 201,
  body: { data: { id: body.node_id, cluster_name: "edge-a", api_token: `token-for-${body.node_id}` } },
});
const refused = (status: number, message: string) => ({
  status,
  body: { error: { code: status === 403 ? "forbidden" : "unauthorized", message, details: {} } },
});

beforeAll(async () => {
  bundle = await buildBundle("1.2.3-test");
  server = await startFakeServer({ enroll: (body, n) => script?.(body, n) ?? created(body) });
});
afterAll(() => server.close());

async function agentEnv(dir: string) {
  return {
    OUTPOST_STATE_DIR: join(dir, "state"),
    OUTPOST_MACHINE_ID_FILE: await fakeMachineId(dir, "7d1219c7c4c5404aaa1f6d2a48adfda4"),
    ENROLLMENT_KEY: keyBlob(server.url, "approval-key"),
  };
}

describe("enrolment with a key that requires approval", () => {
  it("keeps the registration, polls with its id and secret, and saves the node once approved", async () => {
    const start = server.enrollRequests.length;
    script = (body, n) => {
      const i = n - start;
      if (i === 1) return accepted("poll-secret");
      if (i === 2) return accepted();
      return created(body);
    };
    const dir = await tempDir();
    const env = await agentEnv(dir);
    const result = await runAgentCommand(bundle, ["enroll"], env);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^enrolled: node /);
    const sent = server.enrollRequests.slice(start);
    expect(sent).toHaveLength(3);
    expect(sent[0].registration_id).toBeUndefined();
    for (const poll of sent.slice(1)) {
      expect(poll).toMatchObject({
        registration_id: REG_ID,
        registration_secret: "poll-secret",
        node_id: sent[0].node_id,
      });
    }
    const identity = JSON.parse(await readFile(join(env.OUTPOST_STATE_DIR, "identity.json"), "utf8"));
    expect(identity.api_token).toBe(`token-for-${sent[0].node_id}`);
    await expect(stat(join(env.OUTPOST_STATE_DIR, "registration.json"))).rejects.toThrow();
  });

  it("exits with code 6 and a clear message when the registration is rejected", async () => {
    const start = server.enrollRequests.length;
    script = (_body, n) =>
      n - start === 1 ? accepted("s2") : refused(403, "Registration rejected by an administrator");
    const dir = await tempDir();
    const env = await agentEnv(dir);
    const result = await runAgentCommand(bundle, ["run"], env);
    expect(result.code).toBe(6);
    expect(result.stderr).toContain("Registration rejected by an administrator");
    expect(result.stderr).toContain("not admitted");
    await expect(stat(join(env.OUTPOST_STATE_DIR, "registration.json"))).rejects.toThrow();
    await expect(stat(join(env.OUTPOST_STATE_DIR, "identity.json"))).rejects.toThrow();
  });

  it("resumes a kept registration after a restart instead of registering again", async () => {
    const start = server.enrollRequests.length;
    script = (body) => created(body);
    const dir = await tempDir();
    const env = await agentEnv(dir);
    // The node id the machine id derives (the first test's run shows the same derivation).
    const probe = await runAgentCommand(bundle, ["enroll"], {
      ...env,
      OUTPOST_STATE_DIR: join(dir, "probe"),
    });
    expect(probe.code).toBe(0);
    const nodeId = server.enrollRequests[start].node_id;
    await mkdir(env.OUTPOST_STATE_DIR, { recursive: true, mode: 0o700 });
    await writeFile(
      join(env.OUTPOST_STATE_DIR, "registration.json"),
      JSON.stringify({
        registration_id: REG_ID,
        registration_secret: "kept",
        node_id: nodeId,
        server: server.url,
      }),
      { mode: 0o600 },
    );
    const result = await runAgentCommand(bundle, ["enroll"], env);
    expect(result.code, result.stderr).toBe(0);
    expect(server.enrollRequests.slice(start + 1)).toEqual([
      expect.objectContaining({ registration_id: REG_ID, registration_secret: "kept", node_id: nodeId }),
    ]);
  });
});

describe("enroll --reenroll", () => {
  it("enrols the saved node again under its id with its token as proof", async () => {
    script = (body) => created(body);
    const dir = await tempDir();
    const stateDir = join(dir, "state");
    await mkdir(stateDir, { recursive: true, mode: 0o700 });
    const nodeId = await writeIdentity(stateDir, server.url, "saved-token");
    const start = server.enrollRequests.length;
    const result = await runAgentCommand(bundle, ["enroll", "--reenroll"], {
      OUTPOST_STATE_DIR: stateDir,
      ENROLLMENT_KEY: keyBlob(server.url, "again-key"),
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(`re-enrolled: node ${nodeId} in cluster edge-a (${server.url})\n`);
    expect(server.enrollRequests.slice(start)).toEqual([
      expect.objectContaining({
        key: "again-key",
        node_id: nodeId,
        id_type: "random",
        api_token: "saved-token",
      }),
    ]);
    const identity = JSON.parse(await readFile(join(stateDir, "identity.json"), "utf8"));
    expect(identity.api_token).toBe(`token-for-${nodeId}`);
  });

  it("needs ENROLLMENT_KEY and the enroll command (exit 2)", async () => {
    const dir = await tempDir();
    const noKey = await runAgentCommand(bundle, ["enroll", "--reenroll"], {
      OUTPOST_STATE_DIR: join(dir, "s"),
    });
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toContain("--reenroll needs ENROLLMENT_KEY");
    const withRun = await runAgentCommand(bundle, ["run", "--reenroll"], {
      OUTPOST_STATE_DIR: join(dir, "s"),
      ENROLLMENT_KEY: keyBlob(server.url),
    });
    expect(withRun.code).toBe(2);
  });
});
