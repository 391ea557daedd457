// Self-update end to end: the shared stack and a real agent (bundle A, the published build) on Node 20,
// running from a writable copy so it can replace itself. Bundle B (version 9.9.9) is built here and
// served by a small local HTTP server; the self-update request names it explicitly (`release`), so
// the Worker's own published release (dist/public/agent, shared with other tests) stays untouched.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFile, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AgentProcess, copyBundle, stopAllAgents, tempDir } from "../support/agent-process";
import { apiClient } from "../support/command-helpers";
import { printOutputsOnFailure } from "../support/failure-output";
import { clusterWithKey, connectAgent } from "../support/fleet";
import { ROOT, type Stack, sharedStack } from "../support/stack";

const sha = (data: Buffer) => createHash("sha256").update(data).digest("hex");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("agent self-update", () => {
  let workDir: string;
  let stack: Stack;
  let files: Server;
  let filesUrl: string;
  let bundle: string;
  let bundleA: Buffer;
  let bundleB: Buffer;
  let stateDir: string;
  let agent: AgentProcess;
  let nodeId: string;

  const api = apiClient(() => stack.url);

  async function until<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 30_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await check();
      if (value) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(200);
    }
  }

  const node = async () => (await api("GET", `/api/v1/nodes/${nodeId}`)).json.data;
  const waitForNode = (what: string, test: (n: any) => boolean, timeoutMs?: number) =>
    until(what, async () => test(await node()) && node(), timeoutMs);

  /** Output of the agent processes: the first one's pipes are inherited by every restarted copy. */
  const waitForLine = (pattern: RegExp, from = 0, timeoutMs = 30_000) =>
    until(`agent output ${pattern}`, async () => pattern.test(agent.output().slice(from)), timeoutMs);

  async function request(release: { version: string; url: string; sha256: string }) {
    const res = await api("POST", "/api/v1/self_update_requests", {
      targeting: { type: "nodes", node_ids: [nodeId] },
      release,
    });
    expect(res.status, JSON.stringify(res.json)).toBe(201);
    expect(res.json.data.targeting.node_filters).toEqual({ status: "healthy", self_update_enabled: true });
    return until("the request to complete", async () => {
      const got = await api("GET", `/api/v1/self_update_requests/${res.json.data.id}`);
      return got.json.data.status === "completed" && got.json.data;
    });
  }

  beforeAll(async () => {
    workDir = await tempDir("outpost-e2e-self-update-");
    bundle = await copyBundle(workDir);
    bundleA = await readFile(bundle);
    const outfile = join(workDir, "b", "outpost-agent.mjs");
    execFileSync(
      process.execPath,
      [
        "scripts/build-agent.mjs",
        "--version",
        "9.9.9",
        "--outfile",
        outfile,
        "--publish",
        join(workDir, "b", "public"),
      ],
      { cwd: ROOT, stdio: "pipe" },
    );
    bundleB = await readFile(outfile);
    const release = JSON.parse(await readFile(join(workDir, "b", "public", "release.json"), "utf8"));
    expect(release).toMatchObject({ version: "9.9.9", sha256: sha(bundleB) });
    files = createServer((req, res) => {
      if (req.url === "/b/outpost-agent.mjs") res.writeHead(200).end(bundleB);
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => files.listen(0, "127.0.0.1", r));
    filesUrl = `http://127.0.0.1:${(files.address() as AddressInfo).port}`;

    // A refused update flips the node unhealthy and back within seconds: the shared stack's status
    // damping is 1 s (SHARED_STACK_ENV); the default 30 s would hold that flip back.
    stack = await sharedStack();
    const { key } = await clusterWithKey(api, "updates");
    stateDir = join(workDir, "state");
    ({ agent, nodeId } = await connectAgent({
      bundle,
      stateDir,
      key,
      heartbeatSeconds: 1,
      env: {
        // A refused update is reported (node unhealthy) for 3 s, so the next one can target it.
        OUTPOST_SELF_UPDATE_REPORT_SECONDS: "3",
        OUTPOST_SELF_UPDATE_TIMEOUT_SECONDS: "30",
      },
    }));
    await waitForNode("healthy", (n) => n.status === "healthy");
  }, 180_000);

  afterAll(async () => {
    // A restarted agent is a detached process holding the first one's pipes: stop it first.
    const pid = Number((await readFile(join(stateDir ?? "", "agent.pid"), "utf8").catch(() => "")).trim());
    if (pid > 0 && pid !== agent?.pid) {
      try {
        process.kill(pid, "SIGTERM");
        await until(
          "the restarted agent to stop",
          async () => {
            try {
              process.kill(pid, 0);
              return false;
            } catch {
              return true;
            }
          },
          15_000,
        );
      } catch {
        // already gone
      }
    }
    await stopAllAgents();
    await stack?.stop();
    await new Promise((r) => files?.close(r));
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  printOutputsOnFailure(() => ({ "stack output": stack?.output(), "agent output": agent?.output() }));

  it("refuses a bundle whose SHA-256 differs: the node stays on A and reports it", async () => {
    const versionA = (await node()).version;
    expect(versionA).not.toBe("9.9.9");
    const from = agent.output().length;
    const done = await request({
      version: "9.9.9",
      url: `${filesUrl}/b/outpost-agent.mjs`,
      sha256: "0".repeat(64),
    });
    expect(done.summary).toEqual({ total: 1, triggered: 1, failed: 0 });
    await waitForLine(/self-update failed: checksum mismatch/, from);
    // The failing `self_update` check makes the node unhealthy for the report window, then it recovers.
    await waitForNode("unhealthy", (n) => n.status === "unhealthy", 10_000);
    await waitForNode("healthy again", (n) => n.status === "healthy", 15_000);
    expect((await node()).version).toBe(versionA);
    expect(agent.running()).toBe(true);
    expect(sha(await readFile(bundle))).toBe(sha(bundleA));
  });

  it("updates A to B: the bundle file is replaced, the agent restarts and reconnects as 9.9.9", async () => {
    const versionA = (await node()).version;
    const done = await request({
      version: "9.9.9",
      url: `${filesUrl}/b/outpost-agent.mjs`,
      sha256: sha(bundleB),
    });
    expect(done.summary).toEqual({ total: 1, triggered: 1, failed: 0 });
    await waitForNode("version 9.9.9", (n) => n.version === "9.9.9" && n.status === "healthy", 60_000);
    // The old process handed over once the new one reached the server.
    const exitCode =
      agent.child.exitCode ??
      (await new Promise<number | null>((r) => agent.child.once("exit", (code) => r(code))));
    expect(exitCode).toBe(0);
    expect(sha(await readFile(bundle))).toBe(sha(bundleB));
    expect(sha(await readFile(`${bundle}.previous`))).toBe(sha(bundleA));
    const pid = Number((await readFile(join(stateDir, "agent.pid"), "utf8")).trim());
    expect(pid).not.toBe(agent.pid);
    expect(agent.output()).toMatch(/update confirmed: this version reached the server.*from=\S+ to=9\.9\.9/);
    await until("agent metrics from 9.9.9", async () => {
      const m = await api("GET", `/api/v1/nodes/${nodeId}/metrics/agent`);
      return m.json.data?.application?.version === "9.9.9";
    });
    expect(versionA).not.toBe("9.9.9");
  });
});
