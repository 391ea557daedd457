import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DispatchMessage, Env } from "../../src/config";
import { createDatabase } from "../../src/db/client";
import { METRICS_STREAM_CAPABILITY } from "../../src/protocol/system-metrics";
import { DIRECT_CONFIG_PUSH_LIMIT, NODES_PER_CONFIG_MESSAGE } from "../../workers/services/cluster-config";
import { consumeDispatchBatch } from "../../workers/services/dispatch";
import { connectAgent, enrolNode } from "./agent-session";
import { createTestApi, type TestApi } from "./harness";

// A cluster bigger than one request's subrequest budget gets its agents' new `config` through the
// dispatch queue: every reachable node is in exactly one message, and the consumer tells them.

let api: TestApi;
let db: ReturnType<typeof createDatabase>;
const CLUSTER = `cfgq-${crypto.randomUUID().slice(0, 6)}`;
const messages: { body: DispatchMessage }[] = [];
const queue = { sendBatch: async (batch: typeof messages) => void messages.push(...batch) };
const SEEDED = DIRECT_CONFIG_PUSH_LIMIT + 47;
let clusterId = "";

beforeAll(async () => {
  api = await createTestApi(
    { DISPATCH_QUEUE: queue as unknown as Env["DISPATCH_QUEUE"] },
    { sharedDatabase: true },
  );
  db = createDatabase({ url: api.env.LIBSQL_URL! });
  const created = await api.post("/api/v1/clusters", { name: CLUSTER, ipv4_range: "10.77.0.0/22" });
  expect(created.status).toBe(201);
  clusterId = created.body.data.id;
});

afterAll(async () => {
  await db.run(sql`DELETE FROM nodes WHERE cluster_id = ${clusterId} AND node_name LIKE 'cfgq-seeded-%'`);
});

describe("a cluster's config push above the direct limit", () => {
  it("goes through the dispatch queue in messages that cover every reachable node once, and reaches the agents", async () => {
    const agents = [];
    for (let i = 0; i < 3; i++) {
      const { nodeId, token } = await enrolNode(api, CLUSTER);
      const agent = await connectAgent(api, token);
      agent.send({
        type: "hello",
        agent_version: "1.2.3",
        hostname: `host-cfgq-${i}`,
        platform: "linux",
        capabilities: [METRICS_STREAM_CAPABILITY],
        heartbeat_interval_seconds: 15,
      });
      expect(await agent.next("config")).toMatchObject({ metrics_detail_interval_seconds: 60 });
      agents.push({ nodeId, agent });
    }
    // Reachable nodes without a session (no agent ever connected): they count toward the size.
    const now = Date.now();
    await db.run(sql`
      WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < ${SEEDED})
      INSERT INTO nodes (id, id_type, cluster_id, node_name, status, api_token_hash, api_token_ciphertext,
                         proxy_password_ciphertext, self_update_enabled, inserted_at, updated_at)
      SELECT lower(hex(randomblob(16))), 'random', ${clusterId}, 'cfgq-seeded-' || i, 'online',
             'cfgq-hash-' || i || '-' || ${now}, 'x', 'x', 1, ${now}, ${now} FROM seq`);

    for (const { agent } of agents) agent.frames.length = 0;
    const patched = await api.patch(`/api/v1/clusters/${CLUSTER}`, { metrics_detail_interval_seconds: 45 });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);

    const reachable = await db.all<{ id: string }>(
      sql`SELECT id FROM nodes WHERE cluster_id = ${clusterId} AND status != 'unreachable'`,
    );
    expect(messages.every((m) => m.body.kind === "config")).toBe(true);
    expect(messages.every((m) => m.body.node_ids.length <= NODES_PER_CONFIG_MESSAGE)).toBe(true);
    const queued = messages.flatMap((m) => m.body.node_ids);
    expect(new Set(queued).size).toBe(queued.length);
    expect(new Set(queued)).toEqual(new Set(reachable.map((r) => r.id)));
    expect(queued.length).toBe(SEEDED + 3);

    // The consumer, as the queue would run it.
    const outcome = { acked: 0, retried: 0 };
    await consumeDispatchBatch(
      {
        queue: "outpost-dispatch",
        messages: messages.map((m, i) => ({
          id: String(i),
          timestamp: new Date(),
          attempts: 1,
          body: m.body,
          ack: () => void outcome.acked++,
          retry: () => void outcome.retried++,
        })),
        ackAll() {},
        retryAll() {},
      } as unknown as MessageBatch<DispatchMessage>,
      api.env,
    );
    for (const { nodeId, agent } of agents)
      expect(await agent.next("config")).toMatchObject({
        node_id: nodeId,
        metrics_detail_interval_seconds: 45,
      });
    expect(outcome.acked + outcome.retried).toBe(messages.length);
  });
});
