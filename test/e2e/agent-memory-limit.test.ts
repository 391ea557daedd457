// Issue 25: the agent keeps working under the memory limit its systemd unit sets. The agent runs
// with the installed wrapper's Node/V8 flags (read from agent/install.sh) inside a memory cgroup
// limited to the unit's MemoryMax (cgroup v2 `memory.max`, or v1 `memory.limit_in_bytes`; where
// neither is writable, `ulimit -v` with a virtual-memory bound V8's reservations fit in) and goes
// through enrolment, a command with ~590 KB of output and a full inventory report. With a cgroup,
// the limit must never have been hit.
import { existsSync } from "node:fs";
import { mkdir, readFile, rm, rmdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyBundle, startAgent, stopAllAgents, tempDir } from "../support/agent-process";
import { apiClient, executionsOf, getExecution, waitUntil } from "../support/command-helpers";
import { ROOT, type Stack, sharedStack } from "../support/stack";

interface Limit {
  kind: string;
  launcher: string[];
  /** Bytes the cgroup charged at most, and how often the limit was hit (cgroups only). */
  usage(): Promise<{ max: number; hits: number } | undefined>;
  remove(): Promise<void>;
}

/** `128M` → bytes. */
function bytes(value: string): number {
  const m = /^(\d+)([KMG]?)$/.exec(value);
  if (!m) throw new Error(`not a systemd size: ${value}`);
  return Number(m[1]) * 1024 ** " KMG".indexOf(m[2] || " ");
}

async function writable(dir: string): Promise<boolean> {
  try {
    await mkdir(dir);
    return true;
  } catch {
    return false;
  }
}

/** A memory cgroup limited to `limit` bytes when one can be made here, else `ulimit -v`. */
async function memoryLimit(limit: number): Promise<Limit> {
  const name = `outpost-e2e-${process.pid}`;
  const enter = (procs: string) => ["sh", "-c", `echo $$ > ${procs} && exec "$@"`, "sh"];
  const v2 = ["/sys/fs/cgroup", "/sys/fs/cgroup/unified"].find(
    (root) => existsSync(join(root, "cgroup.controllers")) && existsSync(join(root, "cgroup.procs")),
  );
  if (v2) {
    const dir = join(v2, name);
    if (await writable(dir)) {
      try {
        await writeFile(join(dir, "memory.max"), String(limit));
        return {
          kind: `cgroup v2 memory.max=${limit}`,
          launcher: enter(join(dir, "cgroup.procs")),
          async usage() {
            const peak = join(dir, "memory.peak");
            const events = await readFile(join(dir, "memory.events"), "utf8");
            return {
              max: existsSync(peak) ? Number(await readFile(peak, "utf8")) : Number.NaN,
              hits:
                Number(/^max (\d+)$/m.exec(events)?.[1] ?? 0) +
                Number(/^oom_kill (\d+)$/m.exec(events)?.[1] ?? 0),
            };
          },
          remove: () => rmdir(dir).catch(() => {}),
        };
      } catch {
        await rmdir(dir).catch(() => {});
      }
    }
  }
  const v1 = "/sys/fs/cgroup/memory";
  if (existsSync(join(v1, "memory.limit_in_bytes"))) {
    const dir = join(v1, name);
    if (await writable(dir)) {
      await writeFile(join(dir, "memory.limit_in_bytes"), String(limit));
      return {
        kind: `cgroup v1 memory.limit_in_bytes=${limit}`,
        launcher: enter(join(dir, "cgroup.procs")),
        async usage() {
          return {
            max: Number(await readFile(join(dir, "memory.max_usage_in_bytes"), "utf8")),
            hits: Number(await readFile(join(dir, "memory.failcnt"), "utf8")),
          };
        },
        remove: () => rmdir(dir).catch(() => {}),
      };
    }
  }
  // V8 reserves address space far beyond what it uses (Node 20 with the wrapper's flags starts
  // with a 1,000,000 KB bound, not with 512,000 KB): this bounds virtual memory, not RSS.
  return {
    kind: "ulimit -v 1000000",
    launcher: ["sh", "-c", 'ulimit -v 1000000 && exec "$@"', "sh"],
    usage: async () => undefined,
    remove: async () => {},
  };
}

describe("the agent under its unit's memory limit", () => {
  let stack: Stack;
  let workDir: string;
  let limit: Limit;
  let memoryMax: number;
  let nodeFlags: string[];
  const api = apiClient(() => stack.url);

  beforeAll(async () => {
    const install = await readFile(join(ROOT, "agent/install.sh"), "utf8");
    memoryMax = bytes(/^MemoryMax=(\S+)$/m.exec(install)?.[1] ?? "");
    nodeFlags = (/^NODE_FLAGS="([^"]*)"$/m.exec(install)?.[1] ?? "").split(/\s+/).filter(Boolean);
    workDir = await tempDir("outpost-e2e-memlimit-");
    stack = await sharedStack();
    limit = await memoryLimit(memoryMax);
  });

  afterAll(async () => {
    await stopAllAgents();
    await limit?.remove();
    await stack?.stop();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it("enrols, connects, runs a command and reports inventory without reaching the limit", async () => {
    expect(memoryMax).toBeGreaterThanOrEqual(64 * 1024 * 1024);
    expect(nodeFlags.length).toBeGreaterThan(0);
    const cluster = await api("POST", "/api/v1/clusters", { name: "small" });
    expect(cluster.status).toBe(201);
    const key = await api("POST", "/api/v1/clusters/small/enrollment_keys", { uses_remaining: 1 });
    expect(key.status).toBe(201);

    const stateDir = join(workDir, "state");
    const agent = startAgent({
      bundle: await copyBundle(workDir),
      stateDir,
      nodeArgs: nodeFlags,
      launcher: limit.launcher,
      env: { ENROLLMENT_KEY: key.json.data.key, OUTPOST_ID_TYPE: "random", OUTPOST_HEARTBEAT_INTERVAL: "1" },
    });
    await agent.waitFor(/INFO\s+connected/, { timeoutMs: 60_000 });
    const { node_id } = JSON.parse(await readFile(join(stateDir, "identity.json"), "utf8"));

    const command = await api("POST", "/api/v1/commands", {
      command_text: "seq 1 100000",
      targeting: { type: "nodes", node_ids: [node_id] },
    });
    expect(command.status).toBe(201);
    const done = await waitUntil(
      "the command completes",
      async () => {
        const [execution] = await executionsOf(api, command.json.data.id);
        if (!execution) return undefined;
        const row = await getExecution(api, execution.id);
        return row.status === "completed" ? row : undefined;
      },
      { timeoutMs: 60_000 },
    );
    expect(done.exit_code).toBe(0);
    // Every inventory section collected and reported under the limit (the heaviest work it does).
    await agent.waitFor("inventory reported", { timeoutMs: 240_000 });
    expect(agent.running()).toBe(true);

    const usage = await limit.usage();
    console.log(
      `memory limit: ${limit.kind}; ${usage ? `peak charged ${(usage.max / 1048576).toFixed(1)} MB, limit hit ${usage.hits} times` : "no usage figures"}`,
    );
    if (usage) {
      expect(usage.hits).toBe(0);
      if (Number.isFinite(usage.max)) expect(usage.max).toBeLessThan(memoryMax);
    }
    expect(await agent.stop()).toEqual({ code: 0, signal: null });
  });
});
