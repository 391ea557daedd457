import { beforeAll, describe, expect, it } from "vitest";
import { METRICS_STREAM_CAPABILITY } from "../../src/protocol/system-metrics";
import { connectAgent, enrolNode } from "./agent-session";
import { createTestApi, type TestApi } from "./harness";

// A cluster's metrics detail interval reaches its connected agents in their `config`: at hello, at
// once when the cluster's setting changes, and when the node moves to a cluster with another one.

let api: TestApi;
const A = `cfg-a-${crypto.randomUUID().slice(0, 6)}`;
const B = `cfg-b-${crypto.randomUUID().slice(0, 6)}`;

beforeAll(async () => {
  api = await createTestApi({}, { sharedDatabase: true });
  for (const name of [A, B]) expect((await api.post("/api/v1/clusters", { name })).status).toBe(201);
});

async function streamingAgent(cluster: string) {
  const { nodeId, token } = await enrolNode(api, cluster);
  const agent = await connectAgent(api, token);
  agent.send({
    type: "hello",
    agent_version: "1.2.3",
    hostname: "host-cfg",
    platform: "linux",
    capabilities: [METRICS_STREAM_CAPABILITY],
    heartbeat_interval_seconds: 15,
  });
  return { nodeId, agent };
}

describe("a cluster's metrics detail interval in the agents' config", () => {
  it("is sent at hello, again when the cluster's setting changes, and after a move to another cluster", async () => {
    const { nodeId, agent } = await streamingAgent(A);
    // No cluster setting: the server's default (METRICS_DETAIL_INTERVAL_SECONDS, 60).
    expect(await agent.next("config")).toMatchObject({
      cluster_name: A,
      metrics_detail_interval_seconds: 60,
    });

    agent.frames.length = 0;
    const patched = await api.patch(`/api/v1/clusters/${A}`, { metrics_detail_interval_seconds: 30 });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    expect(patched.body.data.metrics_detail_interval_seconds).toBe(30);
    expect(await agent.next("config")).toMatchObject({
      node_id: nodeId,
      cluster_name: A,
      heartbeat_interval_seconds: 15,
      metrics_detail_interval_seconds: 30,
    });

    expect((await api.patch(`/api/v1/clusters/${B}`, { metrics_detail_interval_seconds: 120 })).status).toBe(
      200,
    );
    agent.frames.length = 0;
    const moved = await api.patch(`/api/v1/nodes/${nodeId}/change_cluster`, { cluster_name: B });
    expect(moved.status, JSON.stringify(moved.body)).toBe(200);
    expect(await agent.next("config")).toMatchObject({
      cluster_name: B,
      metrics_detail_interval_seconds: 120,
    });

    // Back to the default: the cluster's agents hear the server's value again.
    agent.frames.length = 0;
    expect((await api.patch(`/api/v1/clusters/${B}`, { metrics_detail_interval_seconds: null })).status).toBe(
      200,
    );
    expect(await agent.next("config")).toMatchObject({
      cluster_name: B,
      metrics_detail_interval_seconds: 60,
    });
    agent.ws.close(1000);
  });

  it("keeps an agent without live metrics on the frames it knows", async () => {
    const { token } = await enrolNode(api, A);
    const agent = await connectAgent(api, token);
    agent.hello();
    const config = await agent.next("config");
    expect(config).not.toHaveProperty("metrics_detail_interval_seconds");
    agent.ws.close(1000);
  });

  it("refuses an interval out of range with the field named", async () => {
    for (const bad of [5, 86_401, 12.5, "60"]) {
      const res = await api.patch(`/api/v1/clusters/${A}`, { metrics_detail_interval_seconds: bad });
      expect(res.status, String(bad)).toBe(422);
      expect(res.body.error.details).toHaveProperty("metrics_detail_interval_seconds");
    }
  });
});
