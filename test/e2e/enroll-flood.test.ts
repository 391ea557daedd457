// Review H2 end to end: a flood of enrolments with made-up keys (bounded concurrency) against a real
// stack (libSQL dev server, `wrangler dev`) while real agents run commands. Refusals are reads, so
// every command completes and every API write made during the flood succeeds.
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AgentProcess, copyBundle, stopAllAgents, tempDir } from "../support/agent-process";
import {
  type Api,
  apiClient,
  createCommand,
  enrollmentKey,
  launchAgent,
  tail,
  waitForCommand,
  waitUntil,
} from "../support/command-helpers";
import { type Stack, startStack } from "../support/stack";

const FLOOD = 500;
const CONCURRENCY = 25;
const AGENTS = 3;

describe("an enrolment flood with made-up keys", () => {
  let stack: Stack;
  let workDir: string;
  let api: Api;
  const agents: AgentProcess[] = [];

  beforeAll(async () => {
    workDir = await tempDir("outpost-e2e-flood-");
    const bundle = await copyBundle(workDir);
    // The per-IP enrolment limit would answer most of the flood with 429 before it reached libSQL;
    // this test is about what reaches it.
    stack = await startStack({
      cronInterval: 1,
      dataDir: join(workDir, "stack"),
      env: { RATE_LIMIT_ENROLL_PER_MINUTE: "0" },
    });
    api = apiClient(() => stack.url);
    expect((await api("POST", "/api/v1/clusters", { name: "flood" })).status).toBe(201);
    const key = await enrollmentKey(api, "flood", AGENTS);
    for (let i = 0; i < AGENTS; i++)
      agents.push(launchAgent({ bundle, stateDir: join(workDir, `state-${i}`), key }));
    await Promise.all(agents.map((a) => a.waitFor(/INFO\s+connected/, { timeoutMs: 60_000 })));
  });

  afterAll(async () => {
    await stopAllAgents();
    await stack?.stop();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it("refuses every made-up key while commands complete and API writes succeed", async () => {
    let next = 0;
    const statuses: number[] = [];
    async function flooder() {
      while (next < FLOOD) {
        next++;
        const res = await fetch(`${stack.url}/agent/v1/enroll`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            key: `made-up-${crypto.randomUUID()}`,
            node_id: crypto.randomUUID(),
            id_type: "random",
            hostname: "flood",
            platform: "linux",
            version: "0",
          }),
        });
        statuses.push(res.status);
        await res.body?.cancel();
      }
    }
    const flood = Promise.all(Array.from({ length: CONCURRENCY }, flooder));

    const writes: number[] = [];
    const commands: string[] = [];
    for (let i = 0; i < 5; i++) {
      const created = await createCommand(api, { command_text: `echo run-${i}`, targeting: { type: "all" } });
      commands.push(created.id);
      writes.push(
        (await api("POST", "/api/v1/clusters/flood/enrollment_keys", { name: `during-${i}` })).status,
      );
    }
    await flood;
    try {
      expect(statuses).toHaveLength(FLOOD);
      expect(new Set(statuses)).toEqual(new Set([401]));
      expect(writes).toEqual([201, 201, 201, 201, 201]);
      for (const id of commands) {
        const executions = await waitForCommand(api, id, 60_000);
        expect(executions).toHaveLength(AGENTS);
        for (const e of executions) expect(e).toMatchObject({ status: "completed", exit_code: 0 });
      }
      await waitUntil("no node left unhealthy", async () => {
        const res = await api("GET", "/api/v1/nodes?page_size=100");
        return res.json.data.every((n: { status: string }) => n.status === "healthy") ? true : undefined;
      });
    } catch (error) {
      console.error(`--- stack output ---\n${tail(stack.output(), 60)}`);
      throw error;
    }
  });
});
