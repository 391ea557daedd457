// A rollout over ten nodes, end to end (issue 21's Done-when): ten real agents on a real stack run a
// command with `max_concurrency: 2` and `max_errors: 1`. The command takes a numbered slot as it
// starts (an atomic mkdir), so the third and fourth node to start fail whatever the order: the
// rollout stops after the second failure, the nodes still waiting are cancelled with a reason, and
// the runs' own start and end times (logged by the command in nanoseconds: the API's timestamps are
// whole seconds) show never more than two running at once.
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AgentProcess, copyBundle, stopAllAgents, tempDir } from "../support/agent-process";
import {
  type Api,
  apiClient,
  enrollmentKey,
  executionsOf,
  launchAgent,
  waitUntil,
} from "../support/command-helpers";
import { printOutputsOnFailure } from "../support/failure-output";
import { type Stack, startStack } from "../support/stack";

const N = 10;
/** The most runs going at one moment: at each run's start, the runs started and not yet ended. */
function mostAtOnce(runs: { start: number; end: number }[]): number {
  let most = 0;
  for (const r of runs)
    most = Math.max(most, runs.filter((o) => o.start <= r.start && o.end > r.start).length);
  return most;
}

describe("a rollout over ten real agents", () => {
  let stack: Stack;
  let workDir: string;
  let api: Api;
  const agents: AgentProcess[] = [];

  beforeAll(async () => {
    workDir = await tempDir("outpost-e2e-rollout-ten-");
    const bundle = await copyBundle(workDir);
    stack = await startStack({ cronInterval: 1, dataDir: join(workDir, "stack") });
    api = apiClient(() => stack.url, 90_000);
    expect((await api("POST", "/api/v1/clusters", { name: "ten" })).status).toBe(201);
    const key = await enrollmentKey(api, "ten", N);
    for (let i = 0; i < N; i++)
      agents.push(launchAgent({ bundle, stateDir: join(workDir, `state-${i}`), key, heartbeatSeconds: 5 }));
    await Promise.all(agents.map((a) => a.waitFor(/INFO\s+connected/, { timeoutMs: 60_000 })));
    await waitUntil(
      "ten nodes healthy",
      async () => {
        const res = await api("GET", "/api/v1/nodes?page_size=100");
        return res.json.data.filter((n: { status: string }) => n.status === "healthy").length === N
          ? true
          : undefined;
      },
      { timeoutMs: 60_000 },
    );
  });

  afterAll(async () => {
    await stopAllAgents();
    await stack?.stop();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  printOutputsOnFailure(() => ({
    "stack output": { text: stack?.output(), lines: 60 },
    ...Object.fromEntries(agents.map((a, i) => [`agent ${i}`, { text: a.output(), lines: 10 }])),
  }));

  it("max_concurrency 2 never has more than two running, and max_errors 1 stops it at the second failure", async () => {
    const slots = join(workDir, "slots");
    const times = join(workDir, "times.log");
    const res = await api("POST", "/api/v1/commands", {
      command_text: [
        `mkdir -p ${slots}`,
        `for i in 1 2 3 4 5 6 7 8 9 10; do mkdir ${slots}/$i 2>/dev/null && break; done`,
        // The API's timestamps are whole seconds (the contract's format): each run logs its own
        // start and end in nanoseconds (one short O_APPEND write each, so lines never mix).
        `echo "$i start $(date +%s%N)" >> ${times}`,
        "sleep 0.4",
        `echo "$i end $(date +%s%N)" >> ${times}`,
        'echo "slot $i"',
        '[ "$i" -ne 3 ] && [ "$i" -ne 4 ]',
      ].join("\n"),
      targeting: { type: "all" },
      max_concurrency: 2,
      max_errors: 1,
    });
    expect(res.status, JSON.stringify(res.json)).toBe(201);
    const commandId = res.json.data.id;
    const executions = await waitUntil(
      "rollout stopped and every execution terminal",
      async () => {
        const c = await api("GET", `/api/v1/commands/${commandId}`);
        if (c.json.data.rollout?.status !== "stopped") return undefined;
        const all = await executionsOf(api, commandId);
        return all.every((e: any) => ["completed", "failed", "cancelled", "timed_out"].includes(e.status))
          ? all
          : undefined;
      },
      { timeoutMs: 60_000 },
    );
    expect(executions).toHaveLength(N);

    const ran = executions.filter((e: any) => e.started_at);
    const bySlot = new Map(ran.map((e: any) => [Number(/slot (\d+)/.exec(e.output)?.[1]), e]));
    // Slots 1 and 2 succeeded, 3 and 4 failed; the second failure stopped the rollout, so at most the
    // slots already running beside the fourth (5, perhaps 6) ran after them.
    expect(bySlot.get(1)).toMatchObject({ exit_code: 0 });
    expect(bySlot.get(2)).toMatchObject({ exit_code: 0 });
    expect(bySlot.get(3)).toMatchObject({ exit_code: 1 });
    expect(bySlot.get(4)).toMatchObject({ exit_code: 1 });
    expect(ran.length).toBeGreaterThanOrEqual(4);
    expect(ran.length).toBeLessThanOrEqual(6);
    const cancelled = executions.filter((e: any) => e.status === "cancelled");
    expect(cancelled.length).toBe(N - ran.length);
    for (const e of cancelled) {
      expect(e.sent_at).toBeNull();
      expect(e.output).toMatch(/rollout stopped/);
    }

    // Never more than two at once, from each run's own start and end (one host, one clock).
    const logged = new Map<string, { start: number; end: number }>();
    for (const line of (await readFile(times, "utf8")).trim().split("\n")) {
      const [slot, what, ns] = line.split(" ");
      const run = logged.get(slot as string) ?? { start: 0, end: 0 };
      run[what as "start" | "end"] = Number(BigInt(ns as string) / 1_000_000n);
      logged.set(slot as string, run);
    }
    const runs = [...logged.values()];
    expect(runs).toHaveLength(ran.length);
    for (const r of runs) expect(r.end).toBeGreaterThan(r.start);
    expect(mostAtOnce(runs), JSON.stringify(runs)).toBeLessThanOrEqual(2);
    // And it did run two at a time (not one after another): the concurrency was used.
    expect(mostAtOnce(runs)).toBe(2);

    const summary = await api("GET", `/api/v1/commands/${commandId}/summary`);
    expect(summary.status).toBe(200);
    expect(JSON.stringify(summary.json.data)).toMatch(/stopped/);
  });
});
