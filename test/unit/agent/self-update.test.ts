// Self-update: the verify / replace / rollback pieces in-process, then the whole flow with real
// bundles on Node 20 against the stand-in server (update, refused checksum, rollback).
import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, copyFile, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  checkBundleVersion,
  downloadVerified,
  installBundle,
  type Marker,
  readMarker,
  restartMode,
  restorePrevious,
  SelfUpdater,
  selfUpdateSettings,
  superviseTrial,
  UpdateRefused,
  writeMarker,
} from "../../../agent/self-update";
import { buildBundle, node20, startFakeServer, tempDir, waitFor, writeIdentity } from "./helpers";

const sha = (data: string | Buffer) => createHash("sha256").update(data).digest("hex");
const silent = { debug() {}, info() {}, warn() {}, error() {} };
const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

/** A static file server for bundles: path → content. */
async function serveFiles(files: Record<string, string | Buffer>): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const body = files[req.url ?? ""];
    if (body === undefined) return void res.writeHead(404).end();
    res.writeHead(200, { "content-type": "text/javascript" }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  cleanup.push(() => new Promise((r) => server.close(r)));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

/** A bundle-like script: prints `version` for --version, otherwise runs `body`. */
function fakeBundle(version: string, body: string): string {
  return `if (process.argv.includes("--version")) { console.log(${JSON.stringify(version)}); process.exit(0); }\n${body}\n`;
}

describe("settings and restart mode", () => {
  it("defaults to 60 s / 600 s, reads the environment, refuses nonsense", () => {
    expect(selfUpdateSettings({})).toEqual({ timeoutMs: 60_000, reportMs: 600_000 });
    expect(
      selfUpdateSettings({
        OUTPOST_SELF_UPDATE_TIMEOUT_SECONDS: "5",
        OUTPOST_SELF_UPDATE_REPORT_SECONDS: "0",
      }),
    ).toEqual({ timeoutMs: 5000, reportMs: 0 });
    expect(() => selfUpdateSettings({ OUTPOST_SELF_UPDATE_TIMEOUT_SECONDS: "0" })).toThrow(
      /OUTPOST_SELF_UPDATE_TIMEOUT_SECONDS must be a whole number of seconds between 1 and 3600/,
    );
    expect(() => selfUpdateSettings({ OUTPOST_SELF_UPDATE_REPORT_SECONDS: "soon" })).toThrow(
      /REPORT_SECONDS/,
    );
  });

  it("exits for systemd to restart it (INVOCATION_ID set), else starts a detached copy", () => {
    expect(restartMode({ INVOCATION_ID: "abc" })).toBe("exit");
    expect(restartMode({})).toBe("spawn");
  });
});

describe("download and verify", () => {
  it("downloads beside the bundle and checks the SHA-256", async () => {
    const dir = await tempDir();
    const bundle = join(dir, "outpost-agent.mjs");
    const content = "console.log('new');\n";
    const { url } = await serveFiles({ "/b.mjs": content });
    const temp = await downloadVerified(`${url}/b.mjs`, sha(content).toUpperCase(), bundle);
    expect(temp.startsWith(`${dir}/.outpost-agent.`)).toBe(true);
    expect(temp.endsWith(".mjs")).toBe(true);
    expect(await readFile(temp, "utf8")).toBe(content);
  });

  it("refuses a checksum mismatch, an HTTP error and an oversized body, leaving nothing behind", async () => {
    const dir = await tempDir();
    const bundle = join(dir, "outpost-agent.mjs");
    const { url } = await serveFiles({ "/b.mjs": "tampered", "/big.mjs": "x".repeat(2048) });
    await expect(downloadVerified(`${url}/b.mjs`, "0".repeat(64), bundle)).rejects.toThrow(
      new UpdateRefused(`checksum mismatch: expected sha256 ${"0".repeat(64)}, got ${sha("tampered")}`),
    );
    await expect(downloadVerified(`${url}/missing.mjs`, "0".repeat(64), bundle)).rejects.toThrow(/HTTP 404/);
    await expect(
      downloadVerified(`${url}/big.mjs`, sha("x".repeat(2048)), bundle, { maxBytes: 1024 }),
    ).rejects.toThrow(/larger than 1024 bytes/);
    expect(await readdir(dir)).toEqual([]);
  });

  it("checks the version a downloaded bundle reports before installing it", async () => {
    const dir = await tempDir();
    const good = join(dir, "good.mjs");
    await writeFile(good, fakeBundle("2.0.0", ""));
    await expect(checkBundleVersion(good, "2.0.0")).resolves.toBeUndefined();
    await expect(checkBundleVersion(good, "3.0.0")).rejects.toThrow(
      'the new bundle reports version "2.0.0", expected 3.0.0',
    );
    const broken = join(dir, "broken.mjs");
    await writeFile(broken, "this is not javascript(");
    await expect(checkBundleVersion(broken, "2.0.0")).rejects.toThrow(/the new bundle does not start/);
  });
});

describe("install and restore", () => {
  it("replaces the bundle atomically with its mode, keeping the previous one", async () => {
    const dir = await tempDir();
    const bundle = join(dir, "outpost-agent.mjs");
    await writeFile(bundle, "old");
    await chmod(bundle, 0o750);
    const downloaded = join(dir, ".outpost-agent.new.mjs");
    await writeFile(downloaded, "new");
    await installBundle(bundle, downloaded);
    expect(await readFile(bundle, "utf8")).toBe("new");
    expect(await readFile(`${bundle}.previous`, "utf8")).toBe("old");
    expect((await stat(bundle)).mode & 0o777).toBe(0o750);
    expect((await readdir(dir)).sort()).toEqual(["outpost-agent.mjs", "outpost-agent.mjs.previous"]);

    await restorePrevious(bundle);
    expect(await readFile(bundle, "utf8")).toBe("old");
    expect(await readFile(`${bundle}.previous`, "utf8")).toBe("old");
  });

  it("fails to restore when there is no previous bundle, and leaves the bundle alone", async () => {
    const dir = await tempDir();
    const bundle = join(dir, "outpost-agent.mjs");
    await writeFile(bundle, "current");
    await expect(restorePrevious(bundle)).rejects.toThrow(/ENOENT/);
    expect(await readFile(bundle, "utf8")).toBe("current");
    expect(await readdir(dir)).toEqual(["outpost-agent.mjs"]);
  });
});

describe("supervising a trial", () => {
  async function trial(body: string, timeoutMs: number) {
    const stateDir = await tempDir();
    const script = join(stateDir, "trial.mjs");
    await writeFile(script, body);
    const child = spawn(process.execPath, [script], { stdio: "ignore", env: { STATE: stateDir } });
    cleanup.push(() => child.kill("SIGKILL"));
    const started = Date.now();
    const outcome = await superviseTrial({ stateDir, child, timeoutMs, version: "2.0.0" });
    return { outcome, child, elapsed: Date.now() - started };
  }
  const confirmAfter = (ms: number) => `
    import { writeFileSync } from "node:fs";
    setTimeout(() => writeFileSync(process.env.STATE + "/self-update.json", JSON.stringify({ state: "confirmed" })), ${ms});
    setInterval(() => {}, 1000);`;

  it("is confirmed when the new process writes `confirmed`", async () => {
    const { outcome, child } = await trial(confirmAfter(300), 5000);
    expect(outcome).toEqual({ confirmed: true });
    expect(child.exitCode).toBeNull();
  });

  it("fails at the deadline and stops the new process", async () => {
    const { outcome, child, elapsed } = await trial("setInterval(() => {}, 1000);", 800);
    expect(outcome).toEqual({ confirmed: false, reason: "version 2.0.0 did not reconnect within 1 s" });
    expect(elapsed).toBeGreaterThanOrEqual(800);
    expect(child.signalCode).toBe("SIGTERM");
  });

  it("fails at once when the new process exits first", async () => {
    const { outcome, elapsed } = await trial("process.exit(3);", 10_000);
    expect(outcome).toEqual({
      confirmed: false,
      reason: "version 2.0.0 exited (code 3) before it reconnected",
    });
    expect(elapsed).toBeLessThan(5000);
  });
});

describe("SelfUpdater", () => {
  const settings = { timeoutMs: 60_000, reportMs: 60_000 };

  async function updater(options: { bundle?: string | null; version?: string; reportMs?: number } = {}) {
    const stateDir = await tempDir();
    const sent: any[] = [];
    let connected = true;
    let restarts = 0;
    const u = new SelfUpdater({
      stateDir,
      bundle: options.bundle === undefined ? null : options.bundle,
      version: options.version ?? "1.0.0",
      settings: { ...settings, reportMs: options.reportMs ?? settings.reportMs },
      log: silent,
      send: (frame) => {
        if (connected) sent.push(frame);
        return connected;
      },
      requestRestart: () => {
        restarts++;
      },
      checkVersion: async () => {},
    });
    return {
      u,
      stateDir,
      sent,
      restarts: () => restarts,
      setConnected: (c: boolean) => {
        connected = c;
      },
    };
  }

  const failedMarker = (over: Partial<Marker> = {}): Marker => ({
    state: "failed",
    from_version: "1.0.0",
    to_version: "2.0.0",
    bundle: "/x/outpost-agent.mjs",
    watchdog_pid: null,
    started_at: new Date().toISOString(),
    failed_at: new Date().toISOString(),
    message: "version 2.0.0 did not reconnect within 60 s; restored 1.0.0",
    ...over,
  });

  it("installs a verified release, records the trial and asks for a restart", async () => {
    const dir = await tempDir();
    const bundle = join(dir, "outpost-agent.mjs");
    await writeFile(bundle, "version one");
    const release = "version two";
    const { url } = await serveFiles({ "/2.mjs": release });
    const t = await updater({ bundle });
    await t.u.handle({
      v: 1,
      type: "self_update",
      version: "2.0.0",
      url: `${url}/2.mjs`,
      sha256: sha(release),
    });
    expect(t.restarts()).toBe(1);
    expect(await readFile(bundle, "utf8")).toBe(release);
    expect(await readFile(`${bundle}.previous`, "utf8")).toBe("version one");
    expect(await readMarker(t.stateDir)).toMatchObject({
      state: "trial",
      from_version: "1.0.0",
      to_version: "2.0.0",
      bundle,
      watchdog_pid: process.pid,
    });
  });

  it("refuses a checksum mismatch: keeps running, reports once per connection and in heartbeat checks", async () => {
    const dir = await tempDir();
    const bundle = join(dir, "outpost-agent.mjs");
    await writeFile(bundle, "version one");
    const { url } = await serveFiles({ "/2.mjs": "corrupt" });
    const t = await updater({ bundle });
    await t.u.handle({
      v: 1,
      type: "self_update",
      version: "2.0.0",
      url: `${url}/2.mjs`,
      sha256: "a".repeat(64),
    });
    expect(t.restarts()).toBe(0);
    expect(await readFile(bundle, "utf8")).toBe("version one");
    expect(await readdir(dir)).toEqual(["outpost-agent.mjs"]);
    expect(t.sent).toEqual([
      { type: "error", code: "self_update_failed", message: expect.stringContaining("checksum mismatch") },
    ]);
    expect(t.u.checks()).toEqual([
      {
        name: "self_update",
        ok: false,
        message: expect.stringMatching(/checksum mismatch.*still running 1\.0\.0/),
      },
    ]);
    t.u.onConnected();
    expect(t.sent).toHaveLength(1);
    expect(await readMarker(t.stateDir)).toMatchObject({ state: "failed", watchdog_pid: null });
  });

  it("ignores the version it already runs, and an update while one is in progress", async () => {
    const dir = await tempDir();
    const bundle = join(dir, "outpost-agent.mjs");
    await writeFile(bundle, "version one");
    const t = await updater({ bundle });
    await t.u.handle({
      v: 1,
      type: "self_update",
      version: "1.0.0",
      url: "http://127.0.0.1:9/x",
      sha256: "a".repeat(64),
    });
    expect(t.sent).toEqual([]);
    expect(await readMarker(t.stateDir)).toBeNull();
  });

  it("refuses to update when not running from a bundle file", async () => {
    const t = await updater({ bundle: null });
    await t.u.handle({
      v: 1,
      type: "self_update",
      version: "2.0.0",
      url: "http://127.0.0.1:9/x",
      sha256: "a".repeat(64),
    });
    expect(t.sent[0].message).toContain("does not run from a bundle file");
  });

  it("at start reports a recorded failure on the next connection, until the report window ends", async () => {
    const t = await updater({ reportMs: 60_000 });
    t.setConnected(false);
    await writeMarker(t.stateDir, failedMarker());
    await t.u.start();
    expect(t.u.checks()).toEqual([
      {
        name: "self_update",
        ok: false,
        message: "version 2.0.0 did not reconnect within 60 s; restored 1.0.0",
      },
    ]);
    t.setConnected(true);
    t.u.onConnected();
    t.u.onConnected();
    expect(t.sent).toEqual([
      {
        type: "error",
        code: "self_update_failed",
        message: "version 2.0.0 did not reconnect within 60 s; restored 1.0.0",
      },
    ]);

    const expired = await updater({ reportMs: 1000 });
    await writeMarker(
      expired.stateDir,
      failedMarker({ failed_at: new Date(Date.now() - 5000).toISOString() }),
    );
    await expired.u.start();
    expect(expired.u.checks()).toEqual([]);
    expect(await readMarker(expired.stateDir)).toBeNull();
  });

  it("at start turns a trial for another version into an 'interrupted' failure, and clears a confirmed one", async () => {
    const t = await updater({ version: "1.0.0" });
    await writeMarker(t.stateDir, failedMarker({ state: "trial", watchdog_pid: 999_999_999 }));
    await t.u.start();
    expect(t.u.checks()[0].message).toBe("the update to 2.0.0 was interrupted; still running 1.0.0");

    const done = await updater({ version: "2.0.0" });
    await writeMarker(done.stateDir, failedMarker({ state: "confirmed" }));
    await done.u.start();
    expect(await readMarker(done.stateDir)).toBeNull();
    expect(done.u.checks()).toEqual([]);
  });

  it("confirms its own trial when the server answers: marks it for a live watchdog, clears it otherwise", async () => {
    const watched = await updater({ version: "2.0.0" });
    await writeMarker(watched.stateDir, failedMarker({ state: "trial", watchdog_pid: process.pid }));
    await watched.u.start();
    await watched.u.onServerAnswered();
    expect(await readMarker(watched.stateDir)).toMatchObject({ state: "confirmed" });

    const orphan = await updater({ version: "2.0.0" });
    await writeMarker(orphan.stateDir, failedMarker({ state: "trial", watchdog_pid: 999_999_999 }));
    await orphan.u.start();
    await orphan.u.onServerAnswered();
    expect(await readMarker(orphan.stateDir)).toBeNull();
    expect(orphan.restarts()).toBe(0);
  });

  it("rolls itself back when an unwatched trial does not reach the server in time", async () => {
    const dir = await tempDir();
    const bundle = join(dir, "outpost-agent.mjs");
    await writeFile(bundle, "version two");
    await writeFile(`${bundle}.previous`, "version one");
    const stateDir = await tempDir();
    let restarts = 0;
    const u = new SelfUpdater({
      stateDir,
      bundle,
      version: "2.0.0",
      settings: { timeoutMs: 300, reportMs: 60_000 },
      log: silent,
      send: () => false,
      requestRestart: () => {
        restarts++;
      },
    });
    await writeMarker(stateDir, failedMarker({ state: "trial", bundle, watchdog_pid: 999_999_999 }));
    await u.start();
    await waitFor(() => restarts === 1, 3000, "the rollback restart");
    expect(await readFile(bundle, "utf8")).toBe("version one");
    expect(await readMarker(stateDir)).toMatchObject({
      state: "failed",
      message: "version 2.0.0 did not reconnect within 1 s; restored 1.0.0",
    });
  });
});

// ---- the whole flow, with real bundles on Node 20 ----

describe("self-update of a running agent (bundled, Node 20)", () => {
  let bundleA: string;
  let bundleB: string;
  const pids = new Set<number>();

  beforeAll(async () => {
    [bundleA, bundleB] = await Promise.all([buildBundle("1.0.0-a"), buildBundle("2.0.0-b")]);
  }, 120_000);

  afterAll(() => {
    for (const pid of pids) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // gone
      }
    }
  });

  /** The agent (from a writable copy of bundle A) against the stand-in server. */
  async function setup(env: Record<string, string> = {}) {
    const server = await startFakeServer();
    cleanup.push(() => server.close());
    const stateDir = await tempDir();
    await writeIdentity(stateDir, server.url);
    const installDir = await tempDir("outpost-agent-install-");
    const bundle = join(installDir, "outpost-agent.mjs");
    await copyFile(bundleA, bundle);
    let output = "";
    const child: ChildProcess = spawn(node20(), [bundle, "run"], {
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        OUTPOST_STATE_DIR: stateDir,
        OUTPOST_HEARTBEAT_INTERVAL: "1",
        OUTPOST_LOG_LEVEL: "debug",
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    pids.add(child.pid!);
    child.stderr!.on("data", (c) => {
      output += c;
    });
    child.stdout!.on("data", (c) => {
      output += c;
    });
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    // The current agent process (after a restart, a detached one): killed at the end of the test.
    cleanup.push(async () => {
      const pid = Number((await readFile(join(stateDir, "agent.pid"), "utf8").catch(() => "")).trim());
      for (const p of [pid, child.pid!]) {
        try {
          if (p) process.kill(p, "SIGKILL");
        } catch {
          // gone
        }
      }
    });
    const peer = await server.nextPeer(15_000);
    const hello = await peer.next("hello", undefined, 15_000);
    expect(hello.agent_version).toBe("1.0.0-a");
    expect(hello.capabilities).toContain("self_update");
    peer.send({ type: "config", node_id: "x", cluster_name: "edge-a", heartbeat_interval_seconds: 1 });
    return { server, stateDir, bundle, installDir, child, exited, peer, output: () => output };
  }

  it("updates from A to B: verifies, swaps the file (keeping A as .previous), restarts and reconnects as B", async () => {
    const b = await readFile(bundleB);
    const { url } = await serveFiles({ "/b.mjs": b });
    const s = await setup();
    s.peer.send({ type: "self_update", version: "2.0.0-b", url: `${url}/b.mjs`, sha256: sha(b) });

    const peer2 = await s.server.nextPeer(20_000);
    const hello = await peer2.next("hello", undefined, 15_000);
    expect(hello.agent_version).toBe("2.0.0-b");
    peer2.send({ type: "config", node_id: "x", cluster_name: "edge-a", heartbeat_interval_seconds: 1 });
    // The old process hands over once the new one is confirmed.
    expect(await s.exited).toBe(0);
    expect(sha(await readFile(s.bundle))).toBe(sha(b));
    expect(sha(await readFile(`${s.bundle}.previous`))).toBe(sha(await readFile(bundleA)));
    await waitFor(() => !existsSync(join(s.stateDir, "self-update.json")), 5000, "the marker to go");
    const heartbeat = await peer2.next("heartbeat", undefined, 5000);
    expect(heartbeat.agent.version).toBe("2.0.0-b");
    expect(heartbeat.checks.find((c) => c.name === "self_update")).toBeUndefined();
    expect(s.output()).toContain("update confirmed");
  }, 60_000);

  it("refuses a bundle whose checksum differs and keeps running A, reporting the failure", async () => {
    const { url } = await serveFiles({ "/b.mjs": await readFile(bundleB) });
    const s = await setup();
    s.peer.send({ type: "self_update", version: "2.0.0-b", url: `${url}/b.mjs`, sha256: "f".repeat(64) });
    const error = await s.peer.next("error", undefined, 15_000);
    expect(error).toMatchObject({
      code: "self_update_failed",
      message: expect.stringContaining("checksum mismatch"),
    });
    const heartbeat = await s.peer.next(
      "heartbeat",
      (h) => h.checks.some((c) => c.name === "self_update"),
      5000,
    );
    expect(heartbeat.checks.find((c) => c.name === "self_update")).toMatchObject({ ok: false });
    expect(heartbeat.agent.version).toBe("1.0.0-a");
    expect(s.child.exitCode).toBeNull();
    expect(sha(await readFile(s.bundle))).toBe(sha(await readFile(bundleA)));
    expect(await readdir(s.installDir)).toEqual(["outpost-agent.mjs"]);
  }, 60_000);

  it("rolls back to A when B does not reconnect in time, and reports it on the next connection", async () => {
    const hanging = fakeBundle("2.0.0-b", "setInterval(() => {}, 1000);");
    const { url } = await serveFiles({ "/b.mjs": hanging });
    const s = await setup({ OUTPOST_SELF_UPDATE_TIMEOUT_SECONDS: "2" });
    s.peer.send({ type: "self_update", version: "2.0.0-b", url: `${url}/b.mjs`, sha256: sha(hanging) });

    const peer2 = await s.server.nextPeer(30_000);
    const hello = await peer2.next("hello", undefined, 15_000);
    expect(hello.agent_version).toBe("1.0.0-a");
    const error = await peer2.next("error", undefined, 5000);
    expect(error).toMatchObject({
      code: "self_update_failed",
      message: "version 2.0.0-b did not reconnect within 2 s; restored 1.0.0-a",
    });
    const heartbeat = await peer2.next(
      "heartbeat",
      (h) => h.checks.some((c) => c.name === "self_update"),
      5000,
    );
    expect(heartbeat.checks.find((c) => c.name === "self_update")?.ok).toBe(false);
    expect(sha(await readFile(s.bundle))).toBe(sha(await readFile(bundleA)));
    expect(await s.exited).toBe(0);
  }, 60_000);
});
