import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import type { NodeSession } from "../../durable-objects/node-session";
import { AGENT, connectAgent, enrolNode, HOST } from "./agent-session";
import { createTestApi, eventually, type TestApi } from "./harness";

let api: TestApi;
const CLUSTER = `mh-${crypto.randomUUID().slice(0, 8)}`;
const MIN = 60_000;

function stubFor(nodeId: string) {
  const ns = (env as any).NODE_SESSION as DurableObjectNamespace<NodeSession>;
  return ns.get(ns.idFromName(nodeId));
}

const values = (cpu: number) => ({ cpu, memory: 50, disk: 60, load_1m: cpu / 100, load_5m: 0, load_15m: 0 });

let nodeId: string;
// Samples every 15 s for the last 3 h, except a 30-minute hole (the agent was offline).
let samples: { at: number; cpu: number }[] = [];
let now: number;
const holeFrom = (n: number) => n - 100 * MIN;
const holeTo = (n: number) => n - 70 * MIN;

function history(query: string) {
  return api.get(`/api/v1/nodes/${nodeId}/metrics/history?${query}`);
}

function raw(from: number, to: number) {
  return samples.filter((s) => s.at >= from && s.at < to).map((s) => s.cpu);
}

beforeAll(async () => {
  api = await createTestApi({}, { sharedDatabase: true });
  await api.post("/api/v1/clusters", {
    name: CLUSTER,
  });
  nodeId = (await enrolNode(api, CLUSTER)).nodeId;
  now = Date.now();
  samples = [];
  for (let at = now - 3 * 60 * MIN; at < now; at += 15_000) {
    if (at >= holeFrom(now) && at < holeTo(now)) continue;
    // A spike every 37th sample: it must survive every tier as a max.
    samples.push({ at, cpu: samples.length % 37 === 0 ? 99 : (samples.length * 7) % 50 });
  }
  await runInDurableObject(stubFor(nodeId), (instance: NodeSession) => {
    for (const s of samples) instance.tiers.record(s.at, values(s.cpu));
  });
});

describe("GET /api/v1/nodes/{node_id}/metrics/history", () => {
  it("serves 1m buckets whose avg/min/max equal the raw samples, with the offline hole left empty", async () => {
    const res = await history(`metrics=cpu&range=6h&resolution=1m&max_points=5000`);
    expect(res.status).toBe(200);
    const { data } = res.body;
    expect(data).toMatchObject({ node_id: nodeId, resolution: "1m", step_seconds: 60 });
    const points: { timestamp: string; cpu: { avg: number; min: number; max: number }; memory?: unknown }[] =
      data.points;
    const minutes = new Set(samples.map((s) => Math.floor(s.at / MIN) * MIN));
    expect(points.length).toBe(minutes.size);
    for (const p of points) {
      const start = Date.parse(p.timestamp);
      const inside = raw(start, start + MIN);
      expect(p.cpu.min).toBe(Math.min(...inside));
      expect(p.cpu.max).toBe(Math.max(...inside));
      expect(p.cpu.avg).toBeCloseTo(inside.reduce((a, b) => a + b, 0) / inside.length, 2);
      expect(p.memory).toBeUndefined();
      expect(start >= holeFrom(now) && start + MIN <= holeTo(now)).toBe(false);
    }
  });

  it("merges 5m and 1h buckets exactly, including the open bucket that holds the newest sample", async () => {
    for (const [resolution, size] of [
      ["5m", 5 * MIN],
      ["1h", 60 * MIN],
    ] as const) {
      const { data } = (await history(`metrics=cpu,memory&range=24h&resolution=${resolution}`)).body;
      expect(data.resolution).toBe(resolution);
      expect(data.points.length).toBe(new Set(samples.map((s) => Math.floor(s.at / size) * size)).size);
      for (const p of data.points) {
        const start = Date.parse(p.timestamp);
        const inside = raw(start, start + size);
        expect(p.cpu.max).toBe(Math.max(...inside));
        expect(p.cpu.min).toBe(Math.min(...inside));
        expect(p.cpu.avg).toBeCloseTo(inside.reduce((a, b) => a + b, 0) / inside.length, 2);
        expect(p.memory).toEqual({ avg: 50, min: 50, max: 50 });
      }
    }
  });

  it("auto picks raw when it fits and merges down to max_points otherwise", async () => {
    const fine = (await history("range=1h&resolution=auto")).body.data;
    expect(fine.resolution).toBe("raw");
    // The window ends at the request's own now, a moment after the samples were written: the oldest may drop out.
    const expected = raw(now - 60 * MIN, now + 1).length;
    expect(fine.points.length).toBeGreaterThanOrEqual(expected - 1);
    expect(fine.points.length).toBeLessThanOrEqual(expected);

    const coarse = (await history("range=24h&max_points=10")).body.data;
    expect(coarse.points.length).toBeLessThanOrEqual(10);
    expect(Math.max(...coarse.points.map((p: any) => p.cpu.max))).toBe(99);
  });

  it("answers 400 naming the parameter for bad input, and 404 for an unknown node", async () => {
    const cases: [string, string][] = [
      ["metrics=cpu,bogus", "metrics"],
      ["range=2h", "range"],
      ["resolution=10s", "resolution"],
      ["max_points=0", "max_points"],
      ["max_points=5001", "max_points"],
      ["from=yesterday", "from"],
      ["from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z", "from"],
      ["from=2026-01-01T00:00:00Z&range=1h", "range"],
      ["color=blue", "color"],
    ];
    for (const [query, param] of cases) {
      const res = await history(query);
      expect(res.status, query).toBe(400);
      expect(res.body.error.code).toBe("bad_request");
      expect(Object.keys(res.body.error.details), query).toContain(param);
    }
    const unknown = crypto.randomUUID();
    expect((await api.get(`/api/v1/nodes/${unknown}/metrics/history`)).status).toBe(404);
    // The session was asked beside the 404 check: it must not have created its tiers for nothing.
    const tables = await runInDurableObject(stubFor(unknown), (_: NodeSession, state) =>
      state.storage.sql.exec("SELECT name FROM sqlite_master WHERE name LIKE 'metrics%'").toArray(),
    );
    expect(tables).toEqual([]);
  });

  it("answers only the series asked for, from the same buckets", async () => {
    const one = (await history("metrics=load_1m&range=6h&resolution=5m")).body.data;
    const all = (await history("metrics=cpu,load_1m&range=6h&resolution=5m")).body.data;
    expect(one.points.length).toBe(all.points.length);
    for (const [i, p] of one.points.entries()) {
      expect(Object.keys(p).sort()).toEqual(["load_1m", "timestamp"]);
      expect(p.load_1m).toEqual(all.points[i].load_1m);
    }
  });

  it("records a real agent's heartbeats as raw samples", async () => {
    const fresh = await enrolNode(api, CLUSTER);
    const agent = await connectAgent(api, fresh.token);
    agent.hello();
    await agent.next("config");
    agent.heartbeat();
    await eventually(async () => {
      const { data } = (
        await api.get(
          `/api/v1/nodes/${fresh.nodeId}/metrics/history?range=1h&resolution=raw&metrics=cpu,memory,disk,load_1m`,
        )
      ).body;
      expect(data.points).toHaveLength(1);
      expect(data.points[0]).toMatchObject({
        cpu: { avg: HOST.cpu.usage_percent },
        memory: { avg: 25 },
        disk: { avg: 60 },
        load_1m: { avg: HOST.cpu.load_1m },
      });
    });
    expect(AGENT.version).toBeDefined();
    agent.ws.close(1000);
  });
});
