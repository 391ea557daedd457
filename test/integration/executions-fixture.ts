import { expect } from "vitest";
import { createDatabase } from "../../src/db/client";
import { connectAgent, enrolNode } from "./agent-session";
import { createTestApi, type TestApi } from "./harness";

// Shared by the command execution test files. Delivery goes through NodeSession objects, which read
// the root database: each file shares it and keeps apart from other files by a unique prefix on its
// cluster names. Integration files run with `isolate: false`, so this module is loaded once for many
// files: each file calls `startExecutionsFile()` before anything else.
export let api: TestApi;
export let db: ReturnType<typeof createDatabase>;
export let P = "";
export let LIVE = "";

/** A fresh cluster-name prefix for the calling test file. */
/** The hello a simulated agent of these files says. */
export const HELLO = {
  type: "hello" as const,
  agent_version: "1.2.3",
  hostname: "host-a",
  platform: "linux",
  capabilities: [] as string[],
  heartbeat_interval_seconds: 15,
};

export function startExecutionsFile(): void {
  P = `ce${crypto.randomUUID().slice(0, 6)}`;
  LIVE = `${P}-on`;
}

export const EXECUTION_FIELDS = [
  "cancelled_at",
  "cluster_name",
  "command_id",
  "command_text",
  "completed_at",
  "duration_ms",
  "exit_code",
  "expired_at",
  "id",
  "inserted_at",
  "node_id",
  "output",
  "sent_at",
  "started_at",
  "status",
  "target_all",
  "timeout",
  "updated_at",
];

export async function makeCluster(name: string) {
  const res = await api.post("/api/v1/clusters", { name });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
}

/** Creates a command for the given nodes and returns its one execution per node. */
export async function run(nodeIds: string[], extra: object = {}) {
  const res = await api.post("/api/v1/commands", {
    command_text: `${P} echo hi`,
    targeting: { type: "nodes", node_ids: nodeIds },
    ...extra,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  const list = await api.get(`/api/v1/command_executions?command_id=${res.body.data.id}`);
  return { command: res.body.data, executions: list.body.data as any[] };
}

export async function execution(id: string) {
  const res = await api.get(`/api/v1/command_executions/${id}`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.data;
}

export async function online() {
  const { nodeId, token } = await enrolNode(api, LIVE);
  const agent = await connectAgent(api, token);
  agent.hello();
  await agent.next("config");
  return { nodeId, token, agent };
}

/** The statement with its parameters written in as SQL literals (EXPLAIN QUERY PLAN takes no batch). */
export function inline(text: string, params: unknown[]): string {
  let i = 0;
  return text.replace(/\?/g, () => {
    const p = params[i++];
    return typeof p === "number" ? String(p) : `'${String(p).replaceAll("'", "''")}'`;
  });
}

export type Agent = Awaited<ReturnType<typeof connectAgent>>;
export const framesFor = (agent: Agent, type: string, executionId: string) =>
  agent.frames.filter((f: any) => f.type === type && f.execution_id === executionId);
export const waitFrame = (agent: Agent, type: string, executionId: string, n = 1) =>
  agent.until(
    () => framesFor(agent, type, executionId).length >= n,
    `${n} ${type} frame(s) for ${executionId}`,
  );

/** Connects to the shared database and creates this file's cluster (its range comes from the pool, so files never clash). */
export async function setUpExecutions(): Promise<void> {
  api = await createTestApi({}, { sharedDatabase: true });
  db = createDatabase({ url: api.env.LIBSQL_URL! });
  await makeCluster(LIVE);
}
