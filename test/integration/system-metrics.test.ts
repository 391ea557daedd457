import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import type { NodeSession } from "../../durable-objects/node-session";
import type { SystemDetail, SystemMetrics } from "../../src/protocol/system-metrics";
import { AGENT, connectAgent, enrolNode, HOST } from "./agent-session";
import { createTestApi, eventually, type TestApi } from "./harness";

// The fuller metrics end to end inside workerd: an agent socket sends heartbeats with `system` and
// `metrics_detail`; the API serves the snapshot, the node list filters and sorts on the latest
// values, and the live stream follows the agent.

let api: TestApi;
const CLUSTER = `sm-${crypto.randomUUID().slice(0, 8)}`;
const GB = 1024 ** 3;

const SYSTEM: SystemMetrics = {
  cpu: {
    available: true,
    usage_percent: 40,
    user_percent: 30,
    system_percent: 5,
    iowait_percent: 4,
    steal_percent: 1,
    cores: [
      { id: 0, usage_percent: 50, iowait_percent: 5, steal_percent: 1, frequency_mhz: 2400 },
      { id: 1, usage_percent: 30, iowait_percent: 3, steal_percent: 1, frequency_mhz: null },
    ],
  },
  memory: {
    available: true,
    buffers_bytes: 1000,
    cached_bytes: 2000,
    swap_total_bytes: 2 * GB,
    swap_used_bytes: GB / 2,
    swap_free_bytes: (3 * GB) / 2,
  },
  mounts: {
    available: true,
    mounts: [
      {
        device: "/dev/sda1",
        mount_point: "/",
        filesystem: "ext4",
        total_bytes: 100 * GB,
        used_bytes: 60 * GB,
        free_bytes: 40 * GB,
        usage_percent: 60,
        inodes_total: 1000,
        inodes_used: 250,
      },
    ],
  },
  disk_io: { available: false, reason: "/proc/diskstats is not readable" },
  network: {
    available: true,
    interfaces: [
      { name: "eth0", rx_bytes: 10, tx_bytes: 20, rx_bytes_per_second: 1, tx_bytes_per_second: 2 },
    ],
  },
  sockets: {
    available: true,
    tcp_in_use: 3,
    tcp_time_wait: 1,
    tcp_orphaned: 0,
    udp_in_use: 1,
    tcp6_in_use: 0,
    udp6_in_use: 0,
  },
  temperatures: { available: false, reason: "no temperature sensors (hwmon, thermal)" },
};

const DETAIL: SystemDetail = {
  collected_at: Date.now(),
  processes: {
    available: true,
    total: 120,
    running: 2,
    top_cpu: [{ pid: 42, name: "nginx", cpu_percent: 12.5, rss_bytes: 1_000_000 }],
    top_memory: [{ pid: 43, name: "java", cpu_percent: 1, rss_bytes: 9_000_000 }],
  },
  containers: { available: false, reason: "Docker is not running on this host" },
  services: {
    available: true,
    total: 10,
    active: 8,
    failed: 1,
    services: [{ name: "nginx.service", state: "failed", sub_state: "failed" }],
  },
  gpu: { available: false, reason: "no GPU found (nvidia-smi, amdgpu sysfs)" },
};

/** A connected agent that speaks `metrics_stream.v1`. */
async function streamingAgent(token: string) {
  const agent = await connectAgent(api, token);
  agent.send({
    type: "hello",
    agent_version: "1.2.3",
    hostname: "host-a",
    platform: "linux",
    capabilities: ["metrics_stream.v1"],
    heartbeat_interval_seconds: 15,
  });
  return agent;
}

function hostWith(diskUsedGb: number, cpu: number, load: number) {
  return {
    ...HOST,
    cpu: { ...HOST.cpu, usage_percent: cpu, load_1m: load },
    disk: { total_bytes: 100 * GB, available_bytes: (100 - diskUsedGb) * GB, used_bytes: diskUsedGb * GB },
  };
}

/** Reads an SSE body until `done` holds for the text so far (or the time is up). */
async function readEvents(res: Response, done: (text: string) => boolean, timeoutMs = 5000) {
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let text = "";
  const deadline = Date.now() + timeoutMs;
  // One read in flight at a time: a read that outlives a tick is awaited again, not repeated.
  let pending: Promise<ReadableStreamReadResult<Uint8Array>> | null = null;
  while (!done(text) && Date.now() < deadline) {
    pending ??= reader.read();
    const chunk = await Promise.race([
      pending,
      new Promise<null>((resolve) => setTimeout(() => resolve(null), 200)),
    ]);
    if (chunk === null) continue;
    pending = null;
    if (chunk.done) break;
    text += decoder.decode(chunk.value, { stream: true });
  }
  return { text, reader };
}

function events(text: string, name: string): unknown[] {
  return text
    .split("\n\n")
    .filter((block) => block.split("\n").includes(`event: ${name}`))
    .map((block) =>
      JSON.parse(
        block
          .split("\n")
          .find((l) => l.startsWith("data: "))
          ?.slice(6) ?? "null",
      ),
    );
}

beforeAll(async () => {
  api = await createTestApi({}, { sharedDatabase: true });
  await api.post("/api/v1/clusters", {
    name: CLUSTER,
  });
});

describe("GET /api/v1/nodes/{node_id}/metrics/system", () => {
  it("serves the latest full snapshot in the contract's naming, with the detail sections", async () => {
    const { nodeId, token } = await enrolNode(api, CLUSTER);
    const agent = await streamingAgent(token);
    const config = await agent.next("config");
    expect(config.metrics_detail_interval_seconds).toBe(60);
    expect((await api.get(`/api/v1/nodes/${nodeId}/metrics/system`)).status).toBe(503);

    agent.send({ type: "metrics_detail", detail: DETAIL });
    agent.send({ type: "heartbeat", host: HOST, agent: AGENT, checks: [], system: SYSTEM });
    let body: any;
    await eventually(async () => {
      const res = await api.get(`/api/v1/nodes/${nodeId}/metrics/system`);
      expect(res.status).toBe(200);
      body = res.body.data;
    });
    expect(body).toMatchObject({
      node_id: nodeId,
      cluster_name: CLUSTER,
      uptime_seconds: HOST.uptime_seconds,
      cpu: { cores_count: 4, usage_percent: 12.5, load_1m: 0.5, iowait_percent: 4, steal_percent: 1 },
      memory: { total_bytes: 8 * GB, total_gb: 8, used_gb: 2, usage_percent: 25, cached_bytes: 2000 },
      swap: { available: true, total_gb: 2, used_gb: 0.5, usage_percent: 25 },
      disk: { total_gb: 100, used_gb: 60, usage_percent: 60 },
      mounts: {
        available: true,
        mounts: [{ mount_point: "/", total_gb: 100, free_gb: 40, inodes_usage_percent: 25 }],
      },
      disk_io: { available: false },
      processes: { available: true, total: 120 },
      services: { available: true, failed: 1 },
      gpu: { available: false },
    });
    expect(body.cpu.cores).toHaveLength(2);
    expect(body.detail_collected_at).toEqual(expect.any(String));
    agent.ws.close();
  });

  it("shows the sections an older agent does not send as unavailable", async () => {
    const { nodeId, token } = await enrolNode(api, CLUSTER);
    const agent = await connectAgent(api, token);
    agent.hello();
    await agent.next("config");
    expect(agent.frames.find((f) => f.type === "config")).not.toHaveProperty(
      "metrics_detail_interval_seconds",
    );
    agent.heartbeat();
    await eventually(async () =>
      expect((await api.get(`/api/v1/nodes/${nodeId}/metrics/system`)).status).toBe(200),
    );
    const { data } = (await api.get(`/api/v1/nodes/${nodeId}/metrics/system`)).body;
    expect(data.cpu).toMatchObject({ usage_percent: 12.5, cores: [], iowait_percent: null });
    for (const section of ["swap", "mounts", "network", "processes", "gpu"])
      expect(data[section], section).toMatchObject({ available: false, reason: expect.any(String) });
    // The contract's shapes are unchanged.
    expect((await api.get(`/api/v1/nodes/${nodeId}/metrics/host`)).body.disk.usage_percent).toBe(60);
    agent.ws.close();
  });

  it("exports the latest snapshot, or the history with a range, as an attachment", async () => {
    const { nodeId, token } = await enrolNode(api, CLUSTER);
    const agent = await streamingAgent(token);
    await agent.next("config");
    agent.send({ type: "heartbeat", host: HOST, agent: AGENT, checks: [], system: SYSTEM });
    await eventually(async () =>
      expect((await api.get(`/api/v1/nodes/${nodeId}/metrics/system`)).status).toBe(200),
    );
    const latest = await api.fetch(`/api/v1/nodes/${nodeId}/metrics/export?format=csv`);
    expect(latest.headers.get("content-disposition")).toContain("attachment");
    const [header, row] = (await latest.text()).trim().split("\r\n");
    expect(header.split(",")).toContain("disk_usage_percent");
    expect(row.split(",")[header.split(",").indexOf("disk_usage_percent")]).toBe("60");
    const history = await api.fetch(`/api/v1/nodes/${nodeId}/metrics/export?format=csv&range=1h&metrics=cpu`);
    expect(history.status).toBe(200);
    const lines = (await history.text()).trim().split("\r\n");
    expect(lines[0]).toBe("timestamp,cpu_avg,cpu_min,cpu_max");
    expect(lines.length).toBeGreaterThanOrEqual(2);
    const json = await api.fetch(`/api/v1/nodes/${nodeId}/metrics/export`);
    expect(((await json.json()) as { node_id: string }).node_id).toBe(nodeId);
    const bad = await api.get(`/api/v1/nodes/${nodeId}/metrics/export?range=2y`);
    expect(bad.status).toBe(400);
    expect(bad.body.error.details).toHaveProperty("range");
    for (const [query, param] of [
      ["range=1h&metrics=cpu,bogus", "metrics"],
      ["format=xml", "format"],
      ["range=1h&max_points=0", "max_points"],
    ]) {
      const res = await api.get(`/api/v1/nodes/${nodeId}/metrics/export?${query}`);
      expect(res.status, query).toBe(400);
      expect(Object.keys(res.body.error.details), query).toContain(param);
    }
    agent.ws.close();
  });

  it("is a 404 for an unknown node", async () => {
    expect((await api.get(`/api/v1/nodes/${crypto.randomUUID()}/metrics/system`)).status).toBe(404);
  });
});

describe("a snapshot held by an evicted session", () => {
  it("shows the one before it, and the history keeps the held heartbeat's series", async () => {
    const { nodeId, token } = await enrolNode(api, CLUSTER);
    const agent = await streamingAgent(token);
    await agent.next("config");
    const ns = (env as any).NODE_SESSION as DurableObjectNamespace<NodeSession>;
    const stub = ns.get(ns.idFromName(nodeId));
    // The first heartbeat is written at once (the latest metrics are due); the second is held in
    // the connection's attachment, its snapshot in the instance's memory only.
    agent.send({ type: "heartbeat", host: HOST, agent: AGENT, checks: [], system: SYSTEM });
    await new Promise((r) => setTimeout(r, 1100));
    const hotter = { ...SYSTEM, cpu: { ...SYSTEM.cpu, usage_percent: 77 } } as SystemMetrics;
    agent.send({ type: "heartbeat", host: HOST, agent: AGENT, checks: [], system: hotter });
    // Held (not read through the object, whose reads write what is held first).
    await eventually(async () => {
      const held = await runInDurableObject(stub, (instance: NodeSession) =>
        [...instance.getConnections()].some((c) => (c.state as { heldSamples?: string } | null)?.heldSamples),
      );
      expect(held).toBe(true);
    });
    // Eviction: a new instance with nothing in memory answers.
    const snapshot = await runInDurableObject(stub, (instance: NodeSession, state) => {
      const Fresh = instance.constructor as new (ctx: DurableObjectState, e: unknown) => NodeSession;
      return new Fresh(state, env).systemMetrics();
    });
    expect(snapshot?.system).toEqual(SYSTEM);
    const history = await stub.metricsHistory({
      from: Date.now() - 60_000,
      to: Date.now() + 1000,
      resolution: "raw",
      maxPoints: 100,
    });
    expect(history.rows).toHaveLength(2);
    agent.ws.close(1000);
  });
});

describe("the node list on the latest metrics", () => {
  const LIST = `sl-${crypto.randomUUID().slice(0, 8)}`;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    await api.post("/api/v1/clusters", {
      name: LIST,
    });
    const plan = { low: [20, 10, 0.2], mid: [55, 90, 4], high: [91, 30, 1.5] } as const;
    for (const [name, [disk, cpu, load]] of Object.entries(plan)) {
      const { nodeId, token } = await enrolNode(api, LIST);
      ids[name] = nodeId;
      const agent = await connectAgent(api, token);
      agent.hello();
      await agent.next("config");
      agent.send({ type: "heartbeat", host: hostWith(disk, cpu, load), agent: AGENT, checks: [] });
      await eventually(async () => {
        const { data } = (await api.get(`/api/v1/nodes?cluster_name=${LIST}&disk_usage_percent__gte=0`)).body;
        expect(data.map((n: { id: string }) => n.id)).toContain(nodeId);
      });
      // A second heartbeat within the minute changes nothing in libSQL.
      agent.send({ type: "heartbeat", host: hostWith(99, 99, 99), agent: AGENT, checks: [] });
      agent.ws.close();
    }
  });

  const list = async (query: string) =>
    ((await api.get(`/api/v1/nodes?cluster_name=${LIST}&${query}`)).body.data as { id: string }[]).map(
      (n) => n.id,
    );

  it("sorts by each latest metric", async () => {
    expect(await list("order_by=disk_usage_percent&order_directions=desc")).toEqual([
      ids.high,
      ids.mid,
      ids.low,
    ]);
    expect(await list("order_by=cpu_usage_percent&order_directions=desc")).toEqual([
      ids.mid,
      ids.high,
      ids.low,
    ]);
    expect(await list("order_by=load_1m")).toEqual([ids.low, ids.high, ids.mid]);
    expect(await list("order_by=memory_usage_percent")).toHaveLength(3);
  });

  it("filters by ranges, decimals included", async () => {
    expect(await list("disk_usage_percent__gte=80")).toEqual([ids.high]);
    expect(await list("cpu_usage_percent__gte=25.5&cpu_usage_percent__lte=90")).toEqual([ids.mid, ids.high]);
    expect(await list("load_1m__lte=1.5&order_by=load_1m")).toEqual([ids.low, ids.high]);
    expect(await list("memory_usage_percent__gte=25&memory_usage_percent__lte=25")).toHaveLength(3);
  });

  it("keeps the values of the first write for a minute (a heartbeat does not write them)", async () => {
    expect(await list("disk_usage_percent__gte=99")).toEqual([]);
  });

  it("exports the fleet's latest values with the list's filters and order, as CSV or JSON", async () => {
    const csv = await api.fetch(
      `/api/v1/metrics/export?format=csv&cluster_name=${LIST}&order_by=disk_usage_percent&order_directions=desc`,
    );
    expect(csv.status).toBe(200);
    expect(csv.headers.get("content-disposition")).toBe('attachment; filename="fleet-metrics.csv"');
    const lines = (await csv.text()).trim().split("\r\n");
    expect(lines[0]).toBe(
      "node_id,node_name,cluster_name,status,cpu_usage_percent,memory_usage_percent,disk_usage_percent,load_1m,collected_at",
    );
    expect(lines.slice(1).map((l) => l.split(",")[0])).toEqual([ids.high, ids.mid, ids.low]);
    expect(lines[1].split(",")[6]).toBe("91");
    const json = await api.fetch(`/api/v1/metrics/export?cluster_name=${LIST}&load_1m__gte=1`);
    const body = (await json.json()) as { nodes: { node_id: string; load_1m: number }[] };
    expect(body.nodes.map((n) => n.node_id).sort()).toEqual([ids.mid, ids.high].sort());
    const xml = await api.get("/api/v1/metrics/export?format=xml");
    expect(xml.status).toBe(400);
    expect(Object.keys(xml.body.error.details)).toContain("format");
  });

  it("refuses a filter value that is not a number, naming the parameter", async () => {
    const res = await api.get(`/api/v1/nodes?cpu_usage_percent__gte=high`);
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body.error.details)).toContain("cpu_usage_percent__gte");
  });
});

describe("GET /api/v1/nodes/{node_id}/metrics/stream", () => {
  it("streams status and snapshots, has the agent sample at the interval, and stops it when the client leaves", async () => {
    const { nodeId, token } = await enrolNode(api, CLUSTER);
    const agent = await streamingAgent(token);
    await agent.next("config");
    agent.send({ type: "heartbeat", host: HOST, agent: AGENT, checks: [], system: SYSTEM });
    await eventually(async () =>
      expect((await api.get(`/api/v1/nodes/${nodeId}/metrics/system`)).status).toBe(200),
    );

    const res = await api.fetch(`/api/v1/nodes/${nodeId}/metrics/stream?interval=1`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const start = await agent.until(
      () => agent.frames.find((f) => f.type === "metrics_stream" && f.interval_seconds === 1),
      "metrics_stream with the interval",
    );
    expect(start).toBeTruthy();
    agent.send({ type: "metrics", host: { ...HOST, uptime_seconds: 4242 }, system: SYSTEM });
    const { text, reader } = await readEvents(res, (t) => t.includes("4242"));
    expect(events(text, "status")[0]).toEqual({ connected: true, status: "healthy" });
    const snapshots = events(text, "metrics") as { uptime_seconds: number }[];
    expect(snapshots.map((s) => s.uptime_seconds)).toContain(4242);
    expect(text).toMatch(/^id: \d+$/m);
    await reader.cancel();
    await agent.until(
      () => agent.frames.find((f) => f.type === "metrics_stream" && f.interval_seconds === null),
      "metrics_stream null when the last subscriber left",
    );
    agent.ws.close();
  });

  it("stops an agent that streams with nobody subscribed (a restarted session)", async () => {
    const { token } = await enrolNode(api, CLUSTER);
    const agent = await streamingAgent(token);
    await agent.next("config");
    agent.send({ type: "metrics", host: HOST, system: SYSTEM });
    const stop = await agent.next("metrics_stream");
    expect(stop.interval_seconds).toBeNull();
    agent.ws.close();
  });

  it("tells the stream when the agent goes away", async () => {
    const { nodeId, token } = await enrolNode(api, CLUSTER);
    const agent = await streamingAgent(token);
    await agent.next("config");
    const res = await api.fetch(`/api/v1/nodes/${nodeId}/metrics/stream?interval=5`);
    expect(res.status).toBe(200);
    agent.ws.close();
    const { text, reader } = await readEvents(res, (t) => events(t, "status").length >= 2);
    expect(events(text, "status").at(-1)).toEqual({ connected: false, status: "unreachable" });
    await reader.cancel();
  });

  it("is a 503 while the agent is offline, and a 400 for a bad interval", async () => {
    const { nodeId } = await enrolNode(api, CLUSTER);
    const offline = await api.get(`/api/v1/nodes/${nodeId}/metrics/stream`);
    expect(offline.status).toBe(503);
    expect(offline.body.error.details.node_status).toEqual(["unreachable"]);
    for (const interval of ["0", "61", "abc"]) {
      const bad = await api.get(`/api/v1/nodes/${nodeId}/metrics/stream?interval=${interval}`);
      expect(bad.status, interval).toBe(400);
      expect(bad.body.error.details).toHaveProperty("interval");
    }
  });

  it("accepts a stream token for its path", async () => {
    const { nodeId, token } = await enrolNode(api, CLUSTER);
    const agent = await streamingAgent(token);
    await agent.next("config");
    const path = `/api/v1/nodes/${nodeId}/metrics/stream`;
    const issued = await api.post("/api/v1/stream_tokens", { path });
    expect(issued.status).toBe(201);
    const res = await api.fetch(`${path}?interval=2&token=${issued.body.data.token}`, { auth: null });
    expect(res.status).toBe(200);
    await res.body?.cancel();
    agent.ws.close();
  });
});
