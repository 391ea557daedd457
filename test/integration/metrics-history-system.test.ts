import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import type { NodeSession } from "../../durable-objects/node-session";
import { seriesValues } from "../../src/metrics-history/buckets";
import type { SystemMetrics } from "../../src/protocol/system-metrics";
import { METRICS_STREAM_CAPABILITY } from "../../src/protocol/system-metrics";
import { AGENT, connectedAgent, enrolNode, HOST } from "./agent-session";
import { createTestApi, eventually, type TestApi } from "./harness";

// Swap, temperature and network rates from the fuller heartbeat are history series like cpu: raw
// samples from the agent's socket, and 1m buckets whose min/max/avg come from those samples.

let api: TestApi;
const CLUSTER = `mhs-${crypto.randomUUID().slice(0, 8)}`;
const GB = 1024 ** 3;
const MIN = 60_000;
const unavailable = { available: false as const };

function system(celsius: number, rx: number, swapUsed: number): SystemMetrics {
  return {
    cpu: unavailable,
    memory: {
      available: true,
      buffers_bytes: 0,
      cached_bytes: 0,
      swap_total_bytes: 4 * GB,
      swap_used_bytes: swapUsed,
      swap_free_bytes: 4 * GB - swapUsed,
    },
    mounts: unavailable,
    disk_io: unavailable,
    network: {
      available: true,
      interfaces: [
        { name: "eth0", rx_bytes: 0, tx_bytes: 0, rx_bytes_per_second: rx, tx_bytes_per_second: 10 },
        { name: "wlan0", rx_bytes: 0, tx_bytes: 0, rx_bytes_per_second: 1, tx_bytes_per_second: 5 },
      ],
    },
    sockets: unavailable,
    temperatures: {
      available: true,
      sensors: [
        { name: "cpu", celsius, high_celsius: null, critical_celsius: null },
        { name: "nvme", celsius: 30, high_celsius: null, critical_celsius: null },
      ],
    },
  };
}

function stubFor(nodeId: string) {
  const ns = (env as any).NODE_SESSION as DurableObjectNamespace<NodeSession>;
  return ns.get(ns.idFromName(nodeId));
}

beforeAll(async () => {
  api = await createTestApi({}, { sharedDatabase: true });
  await api.post("/api/v1/clusters", {
    name: CLUSTER,
  });
});

describe("history of the fuller metrics' series", () => {
  it("keeps an agent's swap, hottest sensor and summed network rates as raw samples", async () => {
    const { nodeId, agent } = await connectedAgent(api, CLUSTER, [METRICS_STREAM_CAPABILITY]);
    agent.send({ type: "heartbeat", host: HOST, agent: AGENT, checks: [], system: system(71.5, 999, GB) });
    const point = await eventually(async () => {
      const res = await api.get(
        `/api/v1/nodes/${nodeId}/metrics/history?metrics=swap,temperature,net_rx_bps,net_tx_bps,cpu&range=1h&resolution=raw`,
      );
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body.data.points).toHaveLength(1);
      return res.body.data.points[0];
    });
    expect(point).toMatchObject({
      swap: { avg: 25, min: 25, max: 25 },
      temperature: { avg: 71.5, min: 71.5, max: 71.5 },
      net_rx_bps: { avg: 1000, min: 1000, max: 1000 },
      net_tx_bps: { avg: 15, min: 15, max: 15 },
      cpu: { avg: HOST.cpu.usage_percent },
    });
    agent.ws.close(1000);
  });

  it("rolls them into 1m buckets with min, max and a count-weighted average; an older agent's samples leave gaps", async () => {
    const { nodeId } = await enrolNode(api, CLUSTER);
    const start = Math.floor(Date.now() / MIN) * MIN - 10 * MIN;
    const temps = [40, 90, 50, 60];
    await runInDurableObject(stubFor(nodeId), (instance: NodeSession) => {
      // Four samples in the first minute, one without the fuller metrics in the second, then one
      // in the third minute that closes both buckets.
      for (const [i, t] of temps.entries())
        instance.tiers.record(start + i * 15_000, seriesValues(HOST, system(t, i * 100, GB)));
      instance.tiers.record(start + MIN + 5_000, seriesValues(HOST));
      instance.tiers.record(start + 2 * MIN + 5_000, seriesValues(HOST, system(45, 0, 0)));
    });
    const res = await api.get(
      `/api/v1/nodes/${nodeId}/metrics/history?metrics=temperature,net_rx_bps,swap,cpu&from=${new Date(start).toISOString()}&to=${new Date(start + 3 * MIN).toISOString()}&resolution=1m`,
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const [first, second, third] = res.body.data.points;
    expect(first.temperature).toEqual({ avg: 60, min: 40, max: 90 });
    expect(first.net_rx_bps).toEqual({ avg: 151, min: 1, max: 301 });
    expect(first.swap).toEqual({ avg: 25, min: 25, max: 25 });
    // The minute with only an older agent's heartbeat has cpu but none of the fuller series.
    expect(second.cpu).toBeDefined();
    expect(second).not.toHaveProperty("temperature");
    expect(third.swap).toEqual({ avg: 0, min: 0, max: 0 });
  });

  it("names the parameter for an unknown series", async () => {
    const { nodeId } = await enrolNode(api, CLUSTER);
    const res = await api.get(`/api/v1/nodes/${nodeId}/metrics/history?metrics=temperature,humidity`);
    expect(res.status).toBe(400);
    expect(res.body.error.details).toHaveProperty("metrics");
  });
});
