import { readFile, rm, statfs } from "node:fs/promises";
import { cpus } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AgentProcess, copyBundle, startAgent, stopAllAgents, tempDir } from "../support/agent-process";
import { printOutputsOnFailure } from "../support/failure-output";
import { type Stack, sharedStack } from "../support/stack";

// Real agents on this machine send the fuller metrics through a real stack: /metrics/system shows
// this machine (compared with os.cpus() and statfs), the node list sorts on the latest values, and
// a live stream makes the agent sample faster than its heartbeat. On the shared stack: a cluster of
// its own keeps its nodes apart from other files'.

const CLUSTER = `metrics-${Math.random().toString(36).slice(2, 8)}`;

describe("fuller metrics from real agents", () => {
  let workDir: string;
  let stack: Stack;
  const agents: AgentProcess[] = [];
  const ids: string[] = [];

  async function api(path: string) {
    const res = await fetch(`${stack.url}${path}`, { headers: { Authorization: `Bearer ${stack.apiKey}` } });
    const text = await res.text();
    return { status: res.status, text, json: text.startsWith("{") ? JSON.parse(text) : null };
  }

  async function poll<T>(what: string, read: () => Promise<T | null>, timeoutMs = 60_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await read();
      if (value !== null) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  beforeAll(async () => {
    workDir = await tempDir("outpost-e2e-sysmetrics-");
    const bundle = await copyBundle(workDir);
    stack = await sharedStack();
    const post = (path: string, body: unknown) =>
      fetch(`${stack.url}${path}`, {
        method: "POST",
        headers: { Authorization: `Bearer ${stack.apiKey}`, "Content-Type": "application/json" },
        body: JSON.stringify(body),
      }).then((r) => r.json() as Promise<{ data: { key: string } }>);
    await post("/api/v1/clusters", { name: CLUSTER });
    const key = (await post(`/api/v1/clusters/${CLUSTER}/enrollment_keys`, { uses_remaining: 2 })).data.key;
    for (const name of ["a", "b"]) {
      const stateDir = join(workDir, `state-${name}`);
      const agent = startAgent({
        bundle,
        stateDir,
        env: { ENROLLMENT_KEY: key, OUTPOST_ID_TYPE: "random", OUTPOST_HEARTBEAT_INTERVAL: "5" },
      });
      agents.push(agent);
      await agent.waitFor(/INFO\s+connected/);
      ids.push(JSON.parse(await readFile(join(stateDir, "identity.json"), "utf8")).node_id);
    }
  }, 180_000);

  afterAll(async () => {
    await stopAllAgents();
    await stack?.stop();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  printOutputsOnFailure(() => ({
    stack: stack?.output(),
    ...Object.fromEntries(agents.map((a, i) => [`agent ${i}`, a.output()])),
  }));

  it("fills /metrics/system with this machine's cores, mounts, network and processes", async () => {
    const data = await poll("a snapshot with the detail sections", async () => {
      const res = await api(`/api/v1/nodes/${ids[0]}/metrics/system`);
      return res.status === 200 && res.json.data.detail_collected_at ? res.json.data : null;
    });
    expect(data.cpu.cores).toHaveLength(cpus().length);
    expect(data.cpu.iowait_percent).toEqual(expect.any(Number));
    expect(data.swap.available).toBe(true);
    const root = data.mounts.mounts.find((m: { mount_point: string }) => m.mount_point === "/");
    const fs = await statfs("/");
    expect(root.total_bytes).toBe(fs.blocks * fs.bsize);
    expect(root.inodes_total).toBe(fs.files);
    expect(data.network.available).toBe(true);
    expect(data.sockets.available).toBe(true);
    expect(data.processes.available).toBe(true);
    expect(data.processes.total).toBeGreaterThan(1);
    expect(data.processes.top_memory.length).toBeGreaterThan(0);
    // The fuller metrics keep the agent within the footprint goal (60 MB resident).
    const own = await api(`/api/v1/nodes/${ids[0]}/metrics/agent`);
    expect(own.json.data.application.rss_bytes).toBeLessThan(60 * 1024 * 1024);
    // Collectors that have nothing to read here say so instead of failing.
    for (const section of ["temperatures", "containers", "services", "gpu"])
      expect(typeof data[section].available, section).toBe("boolean");
  }, 90_000);

  it("sorts and filters the node list on the latest metrics, matching the fleet export", async () => {
    const exported = await poll("both nodes' latest metrics in libSQL", async () => {
      const res = await api(
        `/api/v1/metrics/export?cluster_name=${CLUSTER}&order_by=cpu_usage_percent&order_directions=desc`,
      );
      const nodes = res.json?.nodes as { node_id: string; cpu_usage_percent: number | null }[] | undefined;
      return nodes && nodes.length === 2 && nodes.every((n) => n.cpu_usage_percent !== null) ? nodes : null;
    });
    const listed = await api(
      `/api/v1/nodes?cluster_name=${CLUSTER}&disk_usage_percent__gte=0&order_by=cpu_usage_percent&order_directions=desc`,
    );
    expect(listed.json.data.map((n: { id: string }) => n.id)).toEqual(exported.map((n) => n.node_id));
    const cpuValues = exported.map((n) => n.cpu_usage_percent as number);
    expect(cpuValues).toEqual([...cpuValues].sort((x, y) => y - x));
    expect(
      (await api(`/api/v1/nodes?cluster_name=${CLUSTER}&disk_usage_percent__gte=100.5`)).json.data,
    ).toEqual([]);
  }, 90_000);

  it("streams snapshots at the asked interval, faster than the 5 s heartbeat", async () => {
    const abort = new AbortController();
    const res = await fetch(`${stack.url}/api/v1/nodes/${ids[1]}/metrics/stream?interval=1`, {
      headers: { Authorization: `Bearer ${stack.apiKey}` },
      signal: abort.signal,
    });
    expect(res.status).toBe(200);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = "";
    const started = Date.now();
    const count = () => text.split("\n").filter((l) => l === "event: metrics").length;
    // The stored snapshot comes first; then at least three live samples within about four seconds.
    while (count() < 4 && Date.now() - started < 15_000) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    const elapsed = Date.now() - started;
    abort.abort();
    expect(count()).toBeGreaterThanOrEqual(4);
    expect(elapsed).toBeLessThan(9_000);
    expect(text).toContain('"connected":true');
  }, 60_000);
});
