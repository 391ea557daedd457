// agent/install.sh run by a real sh against a tiny local HTTP server standing in for the
// release host, installing into a temp ROOT with --no-systemd.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { readdir, readFile, stat } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildBundle, keyBlob, node20, ROOT, runAgentCommand, tempDir } from "./helpers";

let bundle: Buffer;
let server: Server;
let origin: string;
let advertisedSha = "";

beforeAll(async () => {
  bundle = await readFile(await buildBundle("3.1.4-test"));
  server = createServer((req, res) => {
    if (req.url === "/agent/v1/releases/latest") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify(
          {
            version: "3.1.4-test",
            sha256: advertisedSha,
            url: `${origin}/agent/v1/releases/latest/outpost-agent.mjs`,
          },
          null,
          2,
        ),
      );
    } else if (req.url === "/agent/v1/releases/latest/outpost-agent.mjs") {
      res.writeHead(200, { "content-type": "text/javascript" });
      res.end(bundle);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise((r) => server.close(r)));

function install(root: string, env: Record<string, string>, args = ["--no-systemd"]) {
  return new Promise<{ code: number | null; stderr: string }>((resolve) => {
    const child = spawn("sh", [join(ROOT, "agent/install.sh"), ...args], {
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        ROOT: root,
        OUTPOST_SERVER: origin,
        OUTPOST_NODE: node20(),
        ...env,
      },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (c) => {
      stderr += c;
    });
    child.on("close", (code) => resolve({ code, stderr }));
  });
}

const mode = async (path: string) => (await stat(path)).mode & 0o777;

describe("install.sh", () => {
  it("verifies and installs the bundle, wrapper, env file and systemd unit into ROOT", async () => {
    advertisedSha = createHash("sha256").update(bundle).digest("hex");
    const root = await tempDir("outpost-install-");
    const key = keyBlob("https://outpost.example.com", "secret+/=");
    const { code, stderr } = await install(root, { ENROLLMENT_KEY: key });
    expect(stderr).toContain("downloaded outpost-agent 3.1.4-test");
    expect(code).toBe(0);

    const installed = join(root, "usr/local/lib/outpost-agent/outpost-agent.mjs");
    expect((await readFile(installed)).equals(bundle)).toBe(true);
    expect(await mode(installed)).toBe(0o755);

    const wrapper = join(root, "usr/local/bin/outpost-agent");
    // V8 sized for a small daemon (docs/agent-footprint.md), before the bundle.
    expect(await readFile(wrapper, "utf8")).toContain(
      `exec "${node20()}" --max-semi-space-size=1 --max-old-space-size=64 --single-threaded-gc --lite-mode /usr/local/lib/outpost-agent/outpost-agent.mjs "$@"`,
    );
    expect(await mode(wrapper)).toBe(0o755);

    const envFile = join(root, "etc/outpost-agent/env");
    expect(await readFile(envFile, "utf8")).toBe(`ENROLLMENT_KEY=${key}\n`);
    expect(await mode(envFile)).toBe(0o600);
    expect(await mode(join(root, "etc/outpost-agent"))).toBe(0o700);

    const unit = await readFile(join(root, "etc/systemd/system/outpost-agent.service"), "utf8");
    for (const line of [
      "ExecStart=/usr/local/bin/outpost-agent run",
      "EnvironmentFile=/etc/outpost-agent/env",
      "StateDirectory=outpost-agent",
      "Restart=always",
      "RestartPreventExitStatus=2 3 4 5 6",
      "KillMode=mixed",
      "MemoryHigh=96M",
      "MemoryMax=128M",
      "WantedBy=multi-user.target",
    ]) {
      expect(unit).toContain(line);
    }

    // The installed single file runs on Node 20 far from any node_modules.
    expect(await runAgentCommand(installed, ["--version"], {})).toMatchObject({
      code: 0,
      stdout: "3.1.4-test\n",
    });

    // An upgrade without a key keeps the existing env file.
    expect((await install(root, {})).code).toBe(0);
    expect(await readFile(envFile, "utf8")).toBe(`ENROLLMENT_KEY=${key}\n`);
  });

  it("refuses a bundle whose checksum does not match, installing nothing", async () => {
    advertisedSha = "0".repeat(64);
    const root = await tempDir("outpost-install-");
    const { code, stderr } = await install(root, { ENROLLMENT_KEY: keyBlob("https://x.example", "k") });
    expect(code).toBe(1);
    expect(stderr).toMatch(
      /checksum mismatch for .*: expected 0{64}, got [0-9a-f]{64}; nothing was installed/,
    );
    expect(await readdir(root)).toEqual([]);
  });

  it.each([
    "http://outpost.example.com",
    "http://10.0.0.5:8787/",
    "http://127.0.0.1.nip.io",
    "http://localhost.example.com:80",
  ])("refuses the plain http server %s before downloading anything (review M2)", async (server) => {
    const root = await tempDir("outpost-install-");
    const { code, stderr } = await install(root, {
      OUTPOST_SERVER: server,
      ENROLLMENT_KEY: keyBlob(server, "k"),
    });
    expect(code).toBe(1);
    expect(stderr).toMatch(/refusing plain http:\/\/ server .*unencrypted.*OUTPOST_ALLOW_INSECURE_HTTP=1/);
    expect(await readdir(root)).toEqual([]);
  });

  it("accepts plain http with OUTPOST_ALLOW_INSECURE_HTTP=1 and hands the opt-in to the installed agent", async () => {
    advertisedSha = createHash("sha256").update(bundle).digest("hex");
    const refused = await install(await tempDir("outpost-install-"), {
      // Not loopback by name, and refused at once by the kernel: nothing listens on port 1.
      OUTPOST_SERVER: "http://0.0.0.0:1",
      OUTPOST_ALLOW_INSECURE_HTTP: "1",
      ENROLLMENT_KEY: keyBlob("http://0.0.0.0:1", "k"),
    });
    expect(refused.stderr).not.toMatch(/refusing/);
    expect(refused.stderr).toMatch(/cannot fetch/);
    const root = await tempDir("outpost-install-");
    const ok = await install(root, {
      OUTPOST_ALLOW_INSECURE_HTTP: "1",
      ENROLLMENT_KEY: keyBlob(origin, "k"),
    });
    expect(ok.code).toBe(0);
    const wrapper = await readFile(join(root, "usr/local/bin/outpost-agent"), "utf8");
    expect(wrapper).toContain("export OUTPOST_ALLOW_INSECURE_HTTP=1\nexec ");
    const plain = await tempDir("outpost-install-");
    expect((await install(plain, { ENROLLMENT_KEY: keyBlob(origin, "k") })).code).toBe(0);
    expect(await readFile(join(plain, "usr/local/bin/outpost-agent"), "utf8")).not.toContain("INSECURE");
  }, 30_000);

  it("needs an enrollment key on a first install", async () => {
    const root = await tempDir("outpost-install-");
    const { code, stderr } = await install(root, {});
    expect(code).toBe(1);
    expect(stderr).toContain("ENROLLMENT_KEY is required");
    expect(await readdir(root)).toEqual([]);
  });
});
