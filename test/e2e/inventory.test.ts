import { execFile, execFileSync } from "node:child_process";
import { readFile, rm, statfs } from "node:fs/promises";
import { release } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AgentProcess, copyBundle, startAgent, stopAllAgents, tempDir } from "../support/agent-process";
import { printOutputsOnFailure } from "../support/failure-output";
import { type Stack, sharedStack } from "../support/stack";

const execFileAsync = promisify(execFile);

// biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own placeholder
const DPKG_VERSION = "${Version}";
// biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own placeholder
const DPKG_PACKAGE = "${Package}";

/** dpkg-query -W with a format such as `${Version}` (dpkg's own placeholders, not a template). */
function dpkgQuery(format: string, ...packages: string[]): string {
  return execFileSync("dpkg-query", ["-W", `-f=${format}`, ...packages], { encoding: "utf8" });
}

// A real agent on this machine reports its inventory through a real stack; what the API then shows
// is compared with the machine itself (dpkg-query, statfs, /etc/os-release, boot_id). On the shared
// stack: other files' agents run on this machine too, so fleet-wide answers are narrowed to this
// file's cluster or compared with each other, never counted as if these were the only nodes.

const CLUSTER = `inv-${crypto.randomUUID().slice(0, 8)}`;

describe("host inventory of this machine", () => {
  let workDir: string;
  let stack: Stack;
  let bundle: string;
  let keyBlob: string;
  let agent: AgentProcess | undefined;
  let quiet: AgentProcess | undefined;
  let nodeId: string;

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

  async function nodeIdOf(stateDir: string): Promise<string> {
    return JSON.parse(await readFile(join(stateDir, "identity.json"), "utf8")).node_id;
  }

  /** Polls until the sections are stored (default all: the updates check runs apt-get -s, which takes seconds). */
  async function fullInventory(id: string, wanted?: string[], timeoutMs = 90_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const res = await api("GET", `/api/v1/nodes/${id}/inventory`);
      const missing: string[] = res.status === 200 ? res.json.data.not_reported : ["all"];
      if (missing.filter((s) => !wanted || wanted.includes(s)).length === 0) {
        return Object.fromEntries(
          res.json.data.sections.map((s: { section: string }) => [s.section, s]),
        ) as Record<string, { status: string; reason: string | null; data: any; updated_at: string }>;
      }
      if (Date.now() > deadline) throw new Error(`inventory incomplete: ${JSON.stringify(res.json)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  beforeAll(async () => {
    workDir = await tempDir("outpost-e2e-inventory-");
    bundle = await copyBundle(workDir);
    stack = await sharedStack();
    expect((await api("POST", "/api/v1/clusters", { name: CLUSTER })).status).toBe(201);
    const key = await api("POST", `/api/v1/clusters/${CLUSTER}/enrollment_keys`, { uses_remaining: 2 });
    keyBlob = key.json.data.key;
    agent = startAgent({
      bundle,
      stateDir: join(workDir, "state-a"),
      env: { ENROLLMENT_KEY: keyBlob, OUTPOST_ID_TYPE: "random" },
    });
    await agent.waitFor(/INFO\s+connected/);
    nodeId = await nodeIdOf(join(workDir, "state-a"));
  });

  afterAll(async () => {
    await stopAllAgents();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  printOutputsOnFailure(() => ({ stack: stack?.output(), agent: agent?.output() }));

  it("shows the machine's facts on the node", async () => {
    const osRelease = await readFile("/etc/os-release", "utf8");
    const pretty = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(osRelease)?.[1];
    const bootId = (await readFile("/proc/sys/kernel/random/boot_id", "utf8")).trim();
    const node = (await api("GET", `/api/v1/nodes/${nodeId}`)).json.data;
    expect(node).toMatchObject({
      platform: "linux",
      os_version: pretty,
      kernel: release(),
      boot_id: bootId,
      arch: process.arch,
    });
    expect(node.primary_ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
  });

  it("reports inventory that matches the machine", async () => {
    const inv = await fullInventory(nodeId);
    for (const section of ["system", "hardware", "storage", "network", "users", "groups", "software"]) {
      expect(inv[section].status, `${section}: ${inv[section].reason}`).toBe("ok");
    }

    // bash, as dpkg itself reports it.
    const bashVersion = dpkgQuery(DPKG_VERSION, "bash");
    const bash = await api("GET", `/api/v1/nodes/${nodeId}/software?name=bash`);
    expect(bash.json.data).toHaveLength(1);
    expect(bash.json.data[0]).toMatchObject({ name: "bash", version: bashVersion, source: "dpkg" });
    const installed = dpkgQuery(`${DPKG_PACKAGE}\\n`).trim().split("\n").length;
    expect(inv.software.data.total_packages).toBeLessThanOrEqual(installed);
    expect(inv.software.data.total_packages).toBeGreaterThan(installed * 0.9);

    // "/" with the size statfs gives.
    const s = await statfs("/");
    const root = inv.storage.data.filesystems.find((f: { mount_point: string }) => f.mount_point === "/");
    expect(root.total_bytes).toBe(s.blocks * s.bsize);

    expect(inv.network.data.interfaces.map((i: { name: string }) => i.name)).toContain("lo");
    const rootUser = inv.users.data.users.find((u: { username: string }) => u.username === "root");
    expect(rootUser).toMatchObject({ uid: 0, gid: 0 });
    expect(inv.groups.data.groups.find((g: { name: string }) => g.name === "root")?.gid).toBe(0);
    expect(inv.system.data.kernel).toBe(release());
    // No systemd or Docker here: unavailable, with the reason, not an error.
    for (const section of ["services", "containers"]) {
      if (inv[section].status === "unavailable") expect(inv[section].reason).toBeTruthy();
    }
  });

  it("finds the node through the fleet software search and the package filter", async () => {
    const bashVersion = dpkgQuery(DPKG_VERSION, "bash");
    const version = encodeURIComponent(bashVersion);
    const fleet = await api("GET", `/api/v1/software?name=bash&version=${version}`);
    expect(fleet.json.data).toEqual([
      {
        name: "bash",
        version: bashVersion,
        architectures: expect.any(Array),
        node_count: expect.any(Number),
      },
    ]);
    // Other files' agents on this machine have bash too: the search counts exactly the nodes the filter finds.
    const everywhere = await api("GET", `/api/v1/nodes?package=bash&package_version=${version}&page_size=1`);
    expect(fleet.json.data[0].node_count).toBe(everywhere.json.meta.pagination.total_count);
    const nodes = await api(
      "GET",
      `/api/v1/nodes?package=bash&package_version=${version}&cluster_name=${CLUSTER}`,
    );
    expect(nodes.json.data.map((n: { id: string }) => n.id)).toEqual([nodeId]);
  });

  it("reports pending updates as apt sees them", async () => {
    const res = await api("GET", `/api/v1/nodes/${nodeId}/updates`);
    expect(res.status).toBe(200);
    if (res.json.data.status !== "ok") return; // no apt index on this machine: reported unavailable
    // Async: a blocked event loop would leave the HTTP client a socket the server already closed.
    const { stdout } = await execFileAsync("apt-get", ["-s", "-o", "Debug::NoLocking=1", "dist-upgrade"], {
      env: { ...process.env, LC_ALL: "C" },
      maxBuffer: 32 * 1024 * 1024,
    });
    const simulated = stdout.split("\n").filter((l) => l.startsWith("Inst ")).length;
    expect(res.json.data.updates.pending_count).toBe(simulated);
    const summary = await api("GET", `/api/v1/updates/summary?cluster_name=${CLUSTER}`);
    expect(summary.json.data).toMatchObject({ nodes: 1, nodes_reporting: 1, pending_updates: simulated });
  });

  it("stores nothing again for unchanged sections when the agent reconnects", async () => {
    const before = await fullInventory(nodeId);
    if (!agent) throw new Error("no agent");
    await agent.stop();
    agent = startAgent({ bundle, stateDir: join(workDir, "state-a"), env: { OUTPOST_ID_TYPE: "random" } });
    await agent.waitFor(/INFO\s+connected/);
    // Give it time to collect and report (it only sends what differs).
    await new Promise((r) => setTimeout(r, 8000));
    const after = await fullInventory(nodeId);
    for (const section of ["system", "hardware", "users", "groups", "software"]) {
      expect(after[section].updated_at, section).toBe(before[section].updated_at);
    }
  });

  it("collects on request, and leaves users and groups out when the host owner says so", async () => {
    const refresh = await api("PATCH", `/api/v1/nodes/${nodeId}/inventory/refresh`, { sections: ["system"] });
    expect(refresh.status).toBe(202);

    const stateDir = join(workDir, "state-b");
    quiet = startAgent({
      bundle,
      stateDir,
      env: { ENROLLMENT_KEY: keyBlob, OUTPOST_ID_TYPE: "random", OUTPOST_INVENTORY_USERS: "false" },
    });
    await quiet.waitFor(/INFO\s+connected/);
    const inv = await fullInventory(await nodeIdOf(stateDir), ["users", "groups", "software"]);
    expect(inv.users).toMatchObject({ status: "unavailable", data: {} });
    expect(inv.users.reason).toContain("OUTPOST_INVENTORY_USERS=false");
    expect(inv.groups.status).toBe("unavailable");
    expect(inv.software.status).toBe("ok");
  });
});
