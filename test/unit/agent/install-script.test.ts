// agent/install.sh run by a real sh against a tiny local HTTP server standing in for the
// release host, installing into a temp ROOT; its systemd and OpenRC paths run against stand-in
// init tools (test/support/fake-init.ts) that record what they were asked.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fakeInitTools } from "../../support/fake-init";
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
  return new Promise<{ code: number | null; stderr: string; stdout: string }>((resolve) => {
    const child = spawn("sh", [join(ROOT, "agent/install.sh"), ...args], {
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        ROOT: root,
        OUTPOST_SERVER: origin,
        OUTPOST_NODE: node20(),
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    let stdout = "";
    child.stderr.on("data", (c) => {
      stderr += c;
    });
    child.stdout.on("data", (c) => {
      stdout += c;
    });
    child.on("close", (code) => resolve({ code, stderr, stdout }));
  });
}

const mode = async (path: string) => (await stat(path)).mode & 0o777;

describe("install.sh", () => {
  it("verifies and installs the bundle, wrapper, env file and systemd unit into ROOT", async () => {
    advertisedSha = createHash("sha256").update(bundle).digest("hex");
    const root = await tempDir("outpost-install-");
    const key = keyBlob("https://outpost.example.com", "secret+/=");
    const init = await fakeInitTools(join(root, "..", `${root.split("/").pop()}-init`));
    const systemd = init.env({ OUTPOST_INIT: "systemd" });
    const { code, stderr } = await install(root, { ENROLLMENT_KEY: key, ...systemd }, []);
    expect(stderr).toContain("downloaded outpost-agent 3.1.4-test");
    expect(stderr).toContain("installed and started (systemd)");
    expect(code).toBe(0);
    expect(await init.calls()).toEqual([
      "systemctl is-active --quiet outpost-agent",
      "systemctl daemon-reload",
      "systemctl enable --now outpost-agent",
      "systemctl is-active --quiet outpost-agent",
      "systemctl is-active --quiet outpost-agent",
    ]);

    const installed = join(root, "usr/local/lib/outpost-agent/outpost-agent.mjs");
    expect((await readFile(installed)).equals(bundle)).toBe(true);
    expect(await mode(installed)).toBe(0o755);

    const wrapper = join(root, "usr/local/bin/outpost-agent");
    // V8 sized for a small daemon (docs/agent-footprint.md), before the bundle.
    expect(await readFile(wrapper, "utf8")).toContain(
      "export MALLOC_ARENA_MAX=1\nexport MALLOC_TRIM_THRESHOLD_=0\nexport MALLOC_MMAP_THRESHOLD_=65536\n",
    );
    expect(await readFile(wrapper, "utf8")).toContain(
      `exec "${node20()}" --max-semi-space-size=1 --max-old-space-size=64 --single-threaded-gc --lite-mode --expose-gc --bytecode-old-age=1 --no-icu-timezone-data /usr/local/lib/outpost-agent/outpost-agent.mjs "$@"`,
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

    // An upgrade without a key keeps the existing env file and restarts the running agent.
    expect((await install(root, systemd, [])).code).toBe(0);
    expect(await readFile(envFile, "utf8")).toBe(`ENROLLMENT_KEY=${key}\n`);
    expect(await init.calls()).toContain("systemctl restart outpost-agent");
  }, 30_000);

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

  describe("services", () => {
    async function fresh() {
      advertisedSha = createHash("sha256").update(bundle).digest("hex");
      const root = await tempDir("outpost-install-");
      const init = await fakeInitTools(`${root}-init`);
      return { root, init, key: keyBlob("https://outpost.example.com", "k") };
    }

    it("--no-systemd writes no unit and prints the exact command for another supervisor", async () => {
      const { root, init, key } = await fresh();
      const result = await install(root, { ENROLLMENT_KEY: key, ...init.env({ OUTPOST_INIT: "systemd" }) });
      expect(result.code).toBe(0);
      expect(result.stderr).toContain("no service was set up (--no-systemd)");
      expect(result.stdout.trim()).toBe(
        "sh -c 'set -a; . /etc/outpost-agent/env; set +a; OUTPOST_STATE_DIR=/var/lib/outpost-agent OUTPOST_ENV_FILE=/etc/outpost-agent/env exec /usr/local/bin/outpost-agent run'",
      );
      expect(await readdir(join(root, "etc"))).toEqual(["outpost-agent"]);
      expect(await init.calls()).toEqual([]);
    });

    it("fails (exit 1) on a host with neither systemd nor OpenRC, printing the supervisor command", async () => {
      const { root, init, key } = await fresh();
      const result = await install(root, { ENROLLMENT_KEY: key, ...init.env({ OUTPOST_INIT: "none" }) }, []);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain("neither systemd nor OpenRC runs on this host");
      expect(result.stderr).toContain("installed but not started");
      expect(result.stdout).toContain("exec /usr/local/bin/outpost-agent run");
      expect((await stat(join(root, "usr/local/bin/outpost-agent"))).isFile()).toBe(true);
    });

    it("fails (exit 1) with the journal's last lines when systemd cannot start the service", async () => {
      const { root, init, key } = await fresh();
      const env = init.env({ OUTPOST_INIT: "systemd", FAKE_INIT_START_FAILS: "1" });
      const result = await install(root, { ENROLLMENT_KEY: key, ...env }, []);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain("error: the outpost-agent service could not be started");
      expect(result.stderr).toContain("enrolment failed: key refused");
      expect(result.stderr).not.toContain("installed and started");
    });

    it("fails (exit 1) when the service starts but does not stay up", async () => {
      const { root, init, key } = await fresh();
      const env = init.env({ OUTPOST_INIT: "systemd", FAKE_INIT_CRASH: "1" });
      const result = await install(root, { ENROLLMENT_KEY: key, ...env }, []);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain("did not stay running (activating)");
      expect(result.stderr).toContain("enrolment failed: key refused");
    });

    it("writes and starts an OpenRC service where OpenRC is the init system", async () => {
      const { root, init, key } = await fresh();
      const result = await install(
        root,
        { ENROLLMENT_KEY: key, ...init.env({ OUTPOST_INIT: "openrc" }) },
        [],
      );
      expect(result.stderr).toContain("installed and started (OpenRC)");
      expect(result.code).toBe(0);
      const script = await readFile(join(root, "etc/init.d/outpost-agent"), "utf8");
      expect(script.split("\n")[0]).toBe("#!/sbin/openrc-run");
      expect(script).toContain("supervisor=supervise-daemon");
      expect(script).toContain("command=/usr/local/bin/outpost-agent");
      expect(script).toContain(". /etc/outpost-agent/env");
      expect(await mode(join(root, "etc/init.d/outpost-agent"))).toBe(0o755);
      expect(await init.calls()).toEqual([
        "rc-update add outpost-agent default",
        "rc-service outpost-agent status",
        "rc-service outpost-agent start",
        "rc-service outpost-agent status",
        "rc-service outpost-agent status",
      ]);
      // OpenRC that cannot keep it up fails the same way.
      const crashed = await fresh();
      const bad = await install(
        crashed.root,
        { ENROLLMENT_KEY: key, ...crashed.init.env({ OUTPOST_INIT: "openrc", FAKE_INIT_CRASH: "1" }) },
        [],
      );
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain("did not stay running");
    }, 20_000);

    it("--uninstall removes the agent and its service and keeps its state; --purge removes that too", async () => {
      const { root, init, key } = await fresh();
      const env = { ENROLLMENT_KEY: key, ...init.env({ OUTPOST_INIT: "systemd" }) };
      expect((await install(root, env, [])).code).toBe(0);
      const stateDir = join(root, "var/lib/outpost-agent");
      await mkdir(stateDir, { recursive: true });
      await writeFile(
        join(stateDir, "identity.json"),
        '{\n  "node_id": "6f1c2d3e-0000-4000-8000-000000000001"\n}\n',
      );

      const kept = await install(root, init.env({ OUTPOST_INIT: "systemd" }), ["--uninstall"]);
      expect(kept.code).toBe(0);
      expect(kept.stderr).toContain("kept /etc/outpost-agent and /var/lib/outpost-agent");
      expect(kept.stderr).toContain("outpost nodes delete 6f1c2d3e-0000-4000-8000-000000000001");
      expect(await init.calls()).toContain("systemctl disable --now outpost-agent");
      expect(await readdir(join(root, "usr/local/bin"))).toEqual([]);
      expect(await readdir(join(root, "usr/local/lib"))).toEqual([]);
      expect(await readdir(join(root, "etc/systemd/system"))).toEqual([]);
      expect(await readdir(join(root, "etc/outpost-agent"))).toEqual(["env"]);
      expect(await readdir(stateDir)).toEqual(["identity.json"]);

      const purged = await install(root, init.env({ OUTPOST_INIT: "systemd" }), ["--uninstall", "--purge"]);
      expect(purged.code).toBe(0);
      expect(purged.stderr).toContain("removed the agent, its service, its settings and its state");
      expect(await readdir(join(root, "etc"))).toEqual(["systemd"]);
      expect(await readdir(join(root, "var/lib"))).toEqual([]);
    }, 20_000);

    it("refuses --purge without --uninstall", async () => {
      const { root, key } = await fresh();
      const result = await install(root, { ENROLLMENT_KEY: key }, ["--purge"]);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain("--purge goes with --uninstall");
      expect(await readdir(root)).toEqual([]);
    });
  });
});
