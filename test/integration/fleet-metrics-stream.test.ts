import { beforeAll, describe, expect, it } from "vitest";
import { METRICS_STREAM_CAPABILITY } from "../../src/protocol/system-metrics";
import { connectAgent, enrolNode, HOST } from "./agent-session";
import { createTestApi, type TestApi } from "./harness";

// One stream for several nodes, selected with the node list's filters: the connected agent is asked
// to sample at the interval and its samples arrive tagged with its node id; the offline node gets a
// status; leaving stops the agent's fast sampling; too wide a selection is refused.

let api: TestApi;
const CLUSTER = `fms-${crypto.randomUUID().slice(0, 8)}`;
const WIDE = `fmw-${crypto.randomUUID().slice(0, 8)}`;

async function readUntil(res: Response, done: (text: string) => boolean, timeoutMs = 8000) {
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let text = "";
  const deadline = Date.now() + timeoutMs;
  let pending: Promise<ReadableStreamReadResult<Uint8Array>> | null = null;
  while (!done(text) && Date.now() < deadline) {
    pending ??= reader.read();
    const chunk = await Promise.race([pending, new Promise<null>((r) => setTimeout(() => r(null), 200))]);
    if (chunk === null) continue;
    pending = null;
    if (chunk.done) break;
    text += decoder.decode(chunk.value, { stream: true });
  }
  return { text, reader };
}

function events(text: string, name: string): Record<string, unknown>[] {
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
  for (const name of [CLUSTER, WIDE]) await api.post("/api/v1/clusters", { name });
});

describe("GET /api/v1/metrics/stream", () => {
  it("merges the selected nodes' streams with their node ids, and stops the agents' sampling on leave", async () => {
    const online = await enrolNode(api, CLUSTER);
    const offline = await enrolNode(api, CLUSTER);
    const agent = await connectAgent(api, online.token);
    agent.send({
      type: "hello",
      agent_version: "1.2.3",
      hostname: "host-fms",
      platform: "linux",
      capabilities: [METRICS_STREAM_CAPABILITY],
      heartbeat_interval_seconds: 15,
    });
    await agent.next("config");

    const res = await api.fetch(`/api/v1/metrics/stream?cluster_name=${CLUSTER}&interval=2`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    await agent.until(
      () => agent.frames.find((f) => f.type === "metrics_stream" && f.interval_seconds === 2),
      "metrics_stream at the fleet stream's interval",
    );
    const off = { available: false as const };
    const system = {
      cpu: off,
      memory: off,
      mounts: off,
      disk_io: off,
      network: off,
      sockets: off,
      temperatures: off,
    };
    agent.send({ type: "metrics", host: { ...HOST, uptime_seconds: 5151 }, system });
    const { text, reader } = await readUntil(
      res,
      (t) => t.includes(`"connected":false`) && t.includes("5151"),
    );
    expect(events(text, "nodes")[0]).toEqual({
      node_ids: expect.arrayContaining([online.nodeId, offline.nodeId]),
      interval_seconds: 2,
    });
    expect(events(text, "status")).toEqual(
      expect.arrayContaining([
        { node_id: online.nodeId, connected: true, status: "healthy" },
        expect.objectContaining({ node_id: offline.nodeId, connected: false }),
      ]),
    );
    const samples = events(text, "metrics");
    expect(samples.some((m) => m.node_id === online.nodeId && m.uptime_seconds === 5151)).toBe(true);
    expect(text).toMatch(/^id: \d+$/m);

    await reader.cancel();
    await agent.until(
      () => agent.frames.find((f) => f.type === "metrics_stream" && f.interval_seconds === null),
      "metrics_stream null once the fleet stream left",
    );
    agent.ws.close(1000);
  });

  it("refuses a selection of more than 20 nodes with 422, and a bad interval with 400", async () => {
    for (let i = 0; i < 21; i++) await enrolNode(api, WIDE);
    const wide = await api.get(`/api/v1/metrics/stream?cluster_name=${WIDE}`);
    expect(wide.status).toBe(422);
    expect(wide.body.error.details).toHaveProperty("filters");
    const bad = await api.get(`/api/v1/metrics/stream?cluster_name=${CLUSTER}&interval=61`);
    expect(bad.status).toBe(400);
  });
});
