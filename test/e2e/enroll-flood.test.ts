// Review H2 end to end: a flood of enrolments with made-up keys (bounded concurrency) against a real
// stack (the shared one: libSQL dev server, `wrangler dev`; its enrolment limit is off, else most of
// the flood would be 429s that never reach libSQL) while real agents run commands. Refusals are
// reads, so every command completes and every API write made during the flood succeeds.
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyBundle, stopAllAgents, tempDir } from "../support/agent-process";
import {
  type Api,
  apiClient,
  createCommand,
  tail,
  waitForCommand,
  waitUntil,
} from "../support/command-helpers";
import { clusterWithKey, connectAgents, startCronTicker } from "../support/fleet";
import { type Stack, sharedStack } from "../support/stack";

const FLOOD = 500;
const CONCURRENCY = 25;
const AGENTS = 3;

describe("an enrolment flood with made-up keys", () => {
  let stack: Stack;
  let workDir: string;
  let api: Api;
  let cluster: string;
  let cron: { stop(): Promise<void> } | undefined;

  beforeAll(async () => {
    workDir = await tempDir("outpost-e2e-flood-");
    const bundle = await copyBundle(workDir);
    stack = await sharedStack();
    api = apiClient(() => stack.url);
    cron = startCronTicker(stack);
    const created = await clusterWithKey(api, "flood", AGENTS);
    cluster = created.cluster;
    await connectAgents(
      Array.from({ length: AGENTS }, (_, i) => ({
        bundle,
        stateDir: join(workDir, `state-${i}`),
        key: created.key,
      })),
      60_000,
    );
  });

  afterAll(async () => {
    await cron?.stop();
    await stopAllAgents();
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
      const created = await createCommand(api, {
        command_text: `echo run-${i}`,
        targeting: { type: "clusters", cluster_names: [cluster] },
      });
      commands.push(created.id);
      writes.push(
        (await api("POST", `/api/v1/clusters/${cluster}/enrollment_keys`, { name: `during-${i}` })).status,
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
        const res = await api("GET", `/api/v1/nodes?page_size=100&cluster_name=${cluster}`);
        return res.json.data.length === AGENTS &&
          res.json.data.every((n: { status: string }) => n.status === "healthy")
          ? true
          : undefined;
      });
    } catch (error) {
      console.error(`--- stack output ---\n${tail(stack.output(), 60)}`);
      throw error;
    }
  });
});
