// The agent installer end to end: `install.sh` as the Worker serves it, run with `sh` into a temp
// ROOT, then the installed agent enrols against the same stack. A tampered release (a stand-in
// server whose bundle doesn't match its checksum) installs nothing.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { node20, startAgent, stopAllAgents, tempDir, wrapperNodeFlags } from "../support/agent-process";
import { fakeInitTools } from "../support/fake-init";
import { type Stack, sharedStack } from "../support/stack";

interface ShResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `sh script args` with only the given environment (plus PATH). */
function sh(script: string, args: string[], env: Record<string, string>): Promise<ShResult> {
  return new Promise((resolve) => {
    execFile(
      "sh",
      [script, ...args],
      { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env }, timeout: 60_000 },
      (error, stdout, stderr) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const sha256 = (data: Buffer | string) => createHash("sha256").update(data).digest("hex");

describe("install.sh", () => {
  let stack: Stack;
  let workDir: string;
  let script: string;
  let keyBlob: string;
  let fake: Server | undefined;

  async function api(method: string, path: string, body?: unknown) {
    const res = await fetch(`${stack.url}${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${stack.apiKey}`,
        ...(body === undefined ? {} : { "Content-Type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : null };
  }

  beforeAll(async () => {
    workDir = await tempDir("outpost-e2e-install-");
    stack = await sharedStack();
    expect((await api("POST", "/api/v1/clusters", { name: "edge" })).status).toBe(201);
    const key = await api("POST", "/api/v1/clusters/edge/enrollment_keys", { uses_remaining: 1 });
    expect(key.status).toBe(201);
    keyBlob = key.json.data.key;
    // curl -fsSL $URL/install.sh, kept in a file so both cases run the same script.
    const res = await fetch(`${stack.url}/install.sh`);
    expect(res.status).toBe(200);
    script = join(workDir, "install.sh");
    await writeFile(script, await res.text());
  });

  afterAll(async () => {
    await stopAllAgents();
    if (fake) await new Promise((r) => fake!.close(r));
    await stack?.stop();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it("is served with this server's origin baked in", async () => {
    const text = await readFile(script, "utf8");
    expect(text).toContain(`DEFAULT_SERVER='${stack.url}'`);
    expect(text).not.toContain("@@OUTPOST_SERVER@@");
  });

  it("installs the verified bundle, a 0600 env file with the key and a Restart=always unit; the agent enrols", async () => {
    const root = join(workDir, "root");
    // systemd's path, with stand-in tools: the unit is written and "started"; the agent below runs as it would.
    const init = await fakeInitTools(join(workDir, "init"));
    const result = await sh(script, [], {
      ROOT: root,
      ENROLLMENT_KEY: keyBlob,
      OUTPOST_NODE: node20(),
      ...init.env({ OUTPOST_INIT: "systemd" }),
    });
    expect(result.stderr).toContain("installed");
    expect(result.code).toBe(0);

    const release = await api("GET", "/agent/v1/releases/latest");
    expect(release.status).toBe(200);
    const installed = join(root, "usr/local/lib/outpost-agent/outpost-agent.mjs");
    expect(sha256(await readFile(installed))).toBe(release.json.data.sha256);
    expect((await stat(installed)).mode & 0o777).toBe(0o755);

    const wrapper = await readFile(join(root, "usr/local/bin/outpost-agent"), "utf8");
    expect(wrapper).toMatch(/^exec "[^"]+" .*\/usr\/local\/lib\/outpost-agent\/outpost-agent\.mjs "\$@"$/m);
    expect(wrapper).toContain(`exec "${node20()}" `);
    // V8 sized for a small daemon (docs/agent-footprint.md); the agent below runs with them.
    const nodeFlags = wrapperNodeFlags(wrapper);
    expect(nodeFlags).toContain("--max-semi-space-size=1");

    const envFile = join(root, "etc/outpost-agent/env");
    expect(await readFile(envFile, "utf8")).toBe(`ENROLLMENT_KEY=${keyBlob}\n`);
    expect((await stat(envFile)).mode & 0o777).toBe(0o600);

    const unit = await readFile(join(root, "etc/systemd/system/outpost-agent.service"), "utf8");
    expect(unit).toMatch(/^Restart=always$/m);
    expect(unit).toMatch(/^RestartPreventExitStatus=2 3 4 5 6$/m);
    expect(unit).toMatch(/^EnvironmentFile=\/etc\/outpost-agent\/env$/m);
    expect(unit).toMatch(/^MemoryHigh=\d+M$/m);
    expect(unit).toMatch(/^MemoryMax=128M$/m);

    // Run it as the unit would (the env file's settings, state under ROOT), on Node 20.
    const envVars = Object.fromEntries(
      (await readFile(envFile, "utf8"))
        .trim()
        .split("\n")
        .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
    );
    const stateDir = join(root, "var/lib/outpost-agent");
    const agent = startAgent({
      bundle: installed,
      stateDir,
      nodeArgs: nodeFlags,
      env: { ...envVars, OUTPOST_ID_TYPE: "random", OUTPOST_HEARTBEAT_INTERVAL: "1" },
    });
    await agent.waitFor(/INFO\s+connected/);
    const { node_id } = JSON.parse(await readFile(join(stateDir, "identity.json"), "utf8"));
    const deadline = Date.now() + 15_000;
    let status: string | undefined;
    while (Date.now() < deadline) {
      const node = await api("GET", `/api/v1/nodes/${node_id}`);
      status = node.json?.data?.status;
      if (status === "healthy") break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toBe("healthy");
    expect((await api("GET", `/api/v1/nodes/${node_id}`)).json.data.cluster_name).toBe("edge");
    expect(await agent.stop()).toEqual({ code: 0, signal: null });

    // The served /uninstall.sh removes it again, state included with --purge.
    const res = await fetch(`${stack.url}/uninstall.sh`);
    expect(res.status).toBe(200);
    const uninstallScript = join(workDir, "uninstall.sh");
    await writeFile(uninstallScript, await res.text());
    const removed = await sh(uninstallScript, ["--purge"], {
      ROOT: root,
      ...init.env({ OUTPOST_INIT: "systemd" }),
    });
    expect(removed.stderr).toContain("removed the agent, its service, its settings and its state");
    expect(removed.code).toBe(0);
    expect(await readdir(join(root, "usr/local/bin"))).toEqual([]);
    expect(await readdir(join(root, "var/lib"))).toEqual([]);
    expect(await init.calls()).toContain("systemctl disable --now outpost-agent");
  });

  it("refuses a bundle whose checksum doesn't match the release record and installs nothing", async () => {
    const genuine = await (await fetch(`${stack.url}/agent/v1/releases/latest/outpost-agent.mjs`)).text();
    const release = (await api("GET", "/agent/v1/releases/latest")).json;
    const tampered = `${genuine}\nconsole.log("tampered");\n`;
    fake = createServer((req, res) => {
      if (req.url === "/agent/v1/releases/latest") {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify(release));
      } else if (req.url === "/agent/v1/releases/latest/outpost-agent.mjs") {
        res.writeHead(200, { "content-type": "text/javascript" });
        res.end(tampered);
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((r) => fake!.listen(0, "127.0.0.1", r));
    const origin = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`;

    const root = join(workDir, "root-tampered");
    const result = await sh(script, ["--no-systemd"], {
      ROOT: root,
      ENROLLMENT_KEY: keyBlob,
      OUTPOST_NODE: node20(),
      OUTPOST_SERVER: origin,
    });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(
      `checksum mismatch for ${origin}/agent/v1/releases/latest/outpost-agent.mjs: expected ${release.data.sha256}, got ${sha256(tampered)}`,
    );
    expect(await readdir(root).catch(() => [])).toEqual([]);
  });
});
