import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import type { NodeSession } from "../../durable-objects/node-session";
import { createDatabase } from "../../src/db/client";
import { alerts } from "../../src/db/schema";
import type { SystemMetrics } from "../../src/protocol/system-metrics";
import { METRICS_STREAM_CAPABILITY } from "../../src/protocol/system-metrics";
import { AGENT, connectAgent, enrolNode, HOST } from "./agent-session";
import { createTestApi, eventually, type TestApi } from "./harness";

// The fuller heartbeat's alert metrics: swap and the hottest sensor, the fullest real mount and the
// highest inode usage of any mount, evaluated in the node's session like cpu and memory.

let api: TestApi;
let db: ReturnType<typeof createDatabase>;
const CLUSTER = `asm-${crypto.randomUUID().slice(0, 8)}`;
const GB = 1024 ** 3;
const unavailable = { available: false as const };

function mount(mountPoint: string, usedGb: number, inodesUsed: number, inodesTotal: number) {
  return {
    device: `/dev/${mountPoint === "/" ? "sda1" : "sdb1"}`,
    mount_point: mountPoint,
    filesystem: "ext4",
    total_bytes: 100 * GB,
    used_bytes: usedGb * GB,
    free_bytes: (100 - usedGb) * GB,
    usage_percent: usedGb,
    inodes_total: inodesTotal,
    inodes_used: inodesUsed,
  };
}

/** Swap 75 % used, sensors at 81.5 and 40 °C, / at 40 % and /data at 93 %, inodes at 10 % and 97 %. */
function system(): SystemMetrics {
  return {
    cpu: unavailable,
    memory: {
      available: true,
      buffers_bytes: 0,
      cached_bytes: 0,
      swap_total_bytes: 4 * GB,
      swap_used_bytes: 3 * GB,
      swap_free_bytes: GB,
    },
    mounts: {
      available: true,
      mounts: [mount("/", 40, 100, 1000), mount("/data", 93, 970, 1000), mount("/btrfs", 10, 0, 0)],
    },
    disk_io: unavailable,
    network: unavailable,
    sockets: unavailable,
    temperatures: {
      available: true,
      sensors: [
        { name: "cpu", celsius: 81.5, high_celsius: null, critical_celsius: null },
        { name: "nvme", celsius: 40, high_celsius: null, critical_celsius: null },
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
  db = createDatabase({ url: api.env.LIBSQL_URL ?? "" });
  await api.post("/api/v1/clusters", { name: CLUSTER });
});

describe("alert rules on the fuller heartbeat's metrics", () => {
  it("accepts swap, temperature, disk_any_mount and inode_usage and fires each from the heartbeat's system section", async () => {
    const { nodeId, token } = await enrolNode(api, CLUSTER);
    const expected: Record<string, number> = {
      swap: 75,
      temperature: 81.5,
      disk_any_mount: 93,
      inode_usage: 97,
    };
    const ruleIds: Record<string, string> = {};
    for (const metric of Object.keys(expected)) {
      const res = await api.post("/api/v1/alert_rules", {
        name: metric,
        metric,
        warning_threshold: 50,
        for_seconds: 0,
        targeting: { type: "nodes", node_ids: [nodeId] },
      });
      expect(res.status).toBe(201);
      ruleIds[metric] = res.body.data.id;
    }
    const agent = await connectAgent(api, token);
    agent.send({
      type: "hello",
      agent_version: "1.2.3",
      hostname: "host-asm",
      platform: "linux",
      capabilities: [METRICS_STREAM_CAPABILITY],
      heartbeat_interval_seconds: 15,
    });
    await agent.next("config");
    // Without `system`, none of these metrics has a value: nothing fires.
    agent.send({ type: "heartbeat", host: HOST, agent: AGENT, checks: [] });
    await eventually(async () => expect((await stubFor(nodeId).state()).samples).toBe(1));
    expect(await db.select().from(alerts).where(eq(alerts.nodeId, nodeId))).toHaveLength(0);

    agent.send({ type: "heartbeat", host: HOST, agent: AGENT, checks: [], system: system() });
    await eventually(async () => {
      const rows = await db.select().from(alerts).where(eq(alerts.nodeId, nodeId));
      expect(rows).toHaveLength(4);
      for (const [metric, value] of Object.entries(expected))
        expect(rows.find((r) => r.ruleId === ruleIds[metric])).toMatchObject({
          metric,
          value,
          status: "firing",
        });
    });
    const session = await runInDurableObject(stubFor(nodeId), (instance: NodeSession) =>
      instance.store.get<Record<string, unknown>>("alert_state"),
    );
    expect(Object.keys(session ?? {}).sort()).toEqual(Object.values(ruleIds).sort());
  });

  it("rejects a metric outside the list, naming the field (422)", async () => {
    const res = await api.post("/api/v1/alert_rules", {
      name: "x",
      metric: "fan_speed",
      warning_threshold: 1,
    });
    expect(res.status).toBe(422);
    expect(JSON.stringify(res.body)).toContain("metric");
  });
});
