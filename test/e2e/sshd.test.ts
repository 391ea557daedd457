// SSH access end to end: a real sshd whose AuthorizedKeysCommand is `outpost-agent authorized-keys`
// (the bundle on Node 20, with a real enrolled agent's state dir), a real `npm start`-style stack,
// a local Unix user, and the real ssh client. Keys registered and deleted through the API decide
// who gets in; an outage falls back to the agent's cache, a deletion does not.
import { spawn } from "node:child_process";
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type AgentProcess,
  copyBundle,
  node20,
  startAgent,
  stopAllAgents,
  tempDir,
} from "../support/agent-process";
import { printOutputsOnFailure } from "../support/failure-output";
import {
  createUnixUser,
  generateClientKey,
  hasSshd,
  removeUnixUser,
  rootOwnedDir,
  SSHD,
  type Sshd,
  sshRun,
  startSshd,
  writeScript,
} from "../support/sshd";
import { freePort, type Stack, sharedStack } from "../support/stack";

const SUFFIX = crypto.randomUUID().replace(/-/g, "").slice(0, 8);
const USER = `ope2e${SUFFIX}`; // a Unix account and an Outpost SSH username
const GHOST = `ghost${SUFFIX}`; // neither
const PASSWORD = "pam-exec password 123";

if (!hasSshd()) {
  console.warn(
    `test/e2e/sshd.test.ts skipped: ${SSHD} not found (apt-get install -y openssh-server openssh-client)`,
  );
}

describe.skipIf(!hasSshd())("sshd logins decided by Outpost", () => {
  let stack: Stack;
  let agent: AgentProcess;
  let sshd: Sshd | undefined;
  let workDir: string;
  let rootDir: string;
  let stateDir: string;
  let bundle: string;
  let nodeId: string;
  let userCreated = false;
  let key: { privateKey: string; publicKey: string };
  let strangerKey: { privateKey: string; publicKey: string };
  let keyId: string;

  async function api(method: string, path: string, body?: unknown) {
    const res = await fetch(`${stack.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${stack.apiKey}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : null };
  }

  const login = (user: string, privateKey: string) =>
    sshRun({ port: sshd!.port, user, key: privateKey, command: "id -un; echo logged-in-via-outpost" });

  /** Runs the bundle as pam_exec would: user in PAM_USER, the password NUL-terminated on stdin. */
  function pamExec(user: string, password: string) {
    return new Promise<number | null>((resolve) => {
      const child = spawn(node20(), [bundle, "verify-password", "--state-dir", stateDir], {
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", PAM_USER: user, PAM_TYPE: "auth" },
        stdio: ["pipe", "ignore", "ignore"],
      });
      child.stdin!.end(`${password}\0`);
      child.on("close", (code) => resolve(code));
    });
  }

  beforeAll(async () => {
    workDir = await tempDir("outpost-e2e-sshd-");
    stateDir = join(workDir, "state");
    // sshd runs the AuthorizedKeysCommand only from a root-owned path no one else can write.
    rootDir = await rootOwnedDir("outpost-e2e-sshd-");
    bundle = await copyBundle(rootDir);
    const command = join(rootDir, "authorized-keys");
    await writeScript(
      command,
      `#!/bin/sh\nexec ${node20()} ${bundle} authorized-keys --state-dir ${stateDir} "$1"\n`,
    );

    stack = await sharedStack();
    expect((await api("POST", "/api/v1/clusters", { name: "ssh-edge" })).status).toBe(201);
    const enrolKey = await api("POST", "/api/v1/clusters/ssh-edge/enrollment_keys", {});
    agent = startAgent({
      bundle,
      stateDir,
      env: {
        OUTPOST_ID_TYPE: "random",
        OUTPOST_HEARTBEAT_INTERVAL: "1",
        ENROLLMENT_KEY: enrolKey.json.data.key,
      },
    });
    await agent.waitFor(/INFO\s+connected/, { timeoutMs: 30_000 });
    nodeId = JSON.parse(await readFile(join(stateDir, "identity.json"), "utf8")).node_id;

    createUnixUser(USER);
    userCreated = true;
    key = generateClientKey(workDir, "id_outpost", `${USER}@example.com`);
    strangerKey = generateClientKey(workDir, "id_stranger", "stranger@example.com");

    sshd = await startSshd({
      dir: workDir,
      port: await freePort(),
      config: [
        `AuthorizedKeysCommand ${command} %u`,
        "AuthorizedKeysCommandUser root",
        // Only the test's own names may log in through this server.
        `AllowUsers ${USER} ${GHOST}`,
      ],
    });
  });

  afterAll(async () => {
    await sshd?.stop();
    await stopAllAgents();
    await stack?.stop();
    if (userCreated) removeUnixUser(USER);
    if (rootDir) await rm(rootDir, { recursive: true, force: true });
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  printOutputsOnFailure(() => ({ sshd: sshd?.output(), agent: agent?.output(), stack: stack?.output() }));

  it("refuses a Unix user that has no SSH username in Outpost", async () => {
    const res = await login(USER, key.privateKey);
    expect(res.code).toBe(255);
    expect(res.stderr).toContain("Permission denied (publickey)");
  });

  it("lets in a key registered through the API and runs a command", async () => {
    const created = await api("POST", `/api/v1/nodes/${nodeId}/ssh_usernames`, {
      username: USER,
      password: PASSWORD,
      public_keys: [{ key_name: "laptop", public_key: key.publicKey }],
    });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    keyId = created.json.data.public_keys[0].id;
    const res = await login(USER, key.privateKey);
    expect(res.stderr).toBe("");
    expect(res.code).toBe(0);
    expect(res.stdout).toBe(`${USER}\nlogged-in-via-outpost\n`);
    expect(sshd!.output()).toMatch(new RegExp(`Accepted publickey for ${USER} from 127\\.0\\.0\\.1`));
  });

  it("refuses a key that is not registered for the username", async () => {
    const res = await login(USER, strangerKey.privateKey);
    expect(res.code).toBe(255);
    expect(res.stderr).toContain("Permission denied (publickey)");
  });

  it("keeps letting the key in from the agent's cache while the server is unreachable", async () => {
    const identityFile = join(stateDir, "identity.json");
    const original = await readFile(identityFile, "utf8");
    const unreachable = `http://127.0.0.1:${await freePort()}`;
    try {
      await writeFile(identityFile, JSON.stringify({ ...JSON.parse(original), server: unreachable }));
      const res = await login(USER, key.privateKey);
      expect(res.code).toBe(0);
      expect(res.stdout).toContain("logged-in-via-outpost");
    } finally {
      await writeFile(identityFile, original, { mode: 0o600 });
    }
  });

  it("refuses the key once it is deleted, and the cache does not bring it back", async () => {
    expect((await api("DELETE", `/api/v1/ssh_public_keys/${keyId}`)).status).toBe(204);
    const res = await login(USER, key.privateKey);
    expect(res.code).toBe(255);
    expect(res.stderr).toContain("Permission denied (publickey)");

    // The server's answer (no keys) replaced the cache: an outage now lets nobody in.
    const identityFile = join(stateDir, "identity.json");
    const original = await readFile(identityFile, "utf8");
    try {
      const unreachable = `http://127.0.0.1:${await freePort()}`;
      await writeFile(identityFile, JSON.stringify({ ...JSON.parse(original), server: unreachable }));
      expect((await login(USER, key.privateKey)).code).toBe(255);
    } finally {
      await writeFile(identityFile, original, { mode: 0o600 });
    }
  });

  it("refuses an unknown user", async () => {
    const res = await login(GHOST, key.privateKey);
    expect(res.code).toBe(255);
    expect(res.stderr).toContain("Permission denied");
  });

  it("checks passwords as pam_exec runs it (PAM_USER, NUL-terminated stdin)", async () => {
    expect(await pamExec(USER, PASSWORD)).toBe(0);
    expect(await pamExec(USER, `${PASSWORD}x`)).toBe(1);
    expect(await pamExec(GHOST, PASSWORD)).toBe(1);
  });

  it("reports the verifications in the running agent's heartbeat", async () => {
    const deadline = Date.now() + 20_000;
    let seen = 0;
    while (Date.now() < deadline) {
      const res = await api("GET", `/api/v1/nodes/${nodeId}/metrics/agent`);
      seen = res.json?.data?.ssh?.verifications ?? 0;
      if (seen >= 8) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    // ≥ 6 key lookups by sshd (one per offered key, so possibly more) and 3 password checks.
    expect(seen).toBeGreaterThanOrEqual(8);
  });
});
