// An orchestrated reboot (C10) survives a Worker restart: `wrangler dev` is stopped while the
// orchestration waits for the rebooted agent, and started again on the same port and data. The
// orchestration's state lives in the parent's NodeSession storage and libSQL; after the restart
// the cron hands it back to the session, which drives it on: the agent comes back with a new boot
// id, the children that ran are started again, and no step ran twice (the engines' log).
// This file owns its stack because it restarts it.
import { chmod, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AgentProcess, copyBundle, stopAllAgents, tempDir } from "../support/agent-process";
import {
  type Api,
  apiClient,
  enrollmentKey,
  launchAgent,
  readIdentity,
  sleep,
  waitUntil,
} from "../support/command-helpers";
import { printOutputsOnFailure } from "../support/failure-output";
import {
  FAKE_ENGINE,
  childStatus as fakeChildStatus,
  fakeEngineEnv,
  setChild as setFakeChild,
} from "../support/fake-child-engines";
import { freePort, portIsFree, type Stack, startStack } from "../support/stack";

describe("orchestrated reboot across a wrangler dev restart", () => {
  let stack: Stack;
  let port: number;
  let api: Api;
  let workDir: string;
  let dataDir: string;
  let bundle: string;
  let stateDir: string;
  let agent: AgentProcess | undefined;
  let nodeId = "";
  const engines = () => join(workDir, "engines");
  const bootFile = () => join(workDir, "boot-id");
  const agentEnv = () => fakeEngineEnv(workDir);
  const setChild = (engine: string, name: string, status: string) =>
    setFakeChild(workDir, engine, name, status);
  const childStatus = (engine: string, name: string) => fakeChildStatus(workDir, engine, name);

  beforeAll(async () => {
    workDir = await tempDir("outpost-e2e-reboot-restart-");
    dataDir = join(workDir, "stack");
    bundle = await copyBundle(workDir);
    stateDir = join(workDir, "state");
    port = await freePort();
    stack = await startStack({ env: { PORT: String(port) }, dataDir, cronInterval: 1 });
    api = apiClient(() => stack.url, 60_000);
    await mkdir(join(workDir, "bin"), { recursive: true });
    for (const engine of ["lxc", "docker"]) {
      await mkdir(join(engines(), engine), { recursive: true });
      await writeFile(join(workDir, "bin", engine), FAKE_ENGINE.replaceAll("STATE", engines()));
      await chmod(join(workDir, "bin", engine), 0o755);
    }
    await writeFile(
      join(workDir, "bin", "systemd-run"),
      `#!/bin/sh\necho "$(date +%s%3N) systemd-run $*" >> "${engines()}/log"\n`,
    );
    await chmod(join(workDir, "bin", "systemd-run"), 0o755);
    await setChild("lxc", "web", "running");
    await setChild("docker", "api", "running");
    await writeFile(bootFile(), "boot-1\n");
    expect((await api("POST", "/api/v1/clusters", { name: "hosts" })).status).toBe(201);
    const key = await enrollmentKey(api, "hosts", 1);
    agent = launchAgent({ bundle, stateDir, key, env: agentEnv() });
    await agent.waitFor(/INFO\s+connected/, { timeoutMs: 30_000 });
    nodeId = (await readIdentity(stateDir)).node_id;
  });

  afterAll(async () => {
    await stopAllAgents();
    await stack?.stop();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  printOutputsOnFailure(() => ({
    agent: agent?.output(),
    "stack output": { text: stack?.output(), lines: 60 },
  }));

  it("resumes after the restart and completes, each step run once", async () => {
    await waitUntil(
      "children reported",
      async () => {
        const res = await api("GET", `/api/v1/nodes/${nodeId}/reboot_precheck`);
        return res.json?.data?.running_count === 2 ? true : undefined;
      },
      { timeoutMs: 30_000 },
    );
    const res = await api("POST", `/api/v1/nodes/${nodeId}/reboot_orchestrations`, {
      shutdown_timeout_seconds: 20,
    });
    expect(res.status, JSON.stringify(res.json)).toBe(201);
    const id = res.json.data.id;
    const seen: string[] = [res.json.data.status];
    const watch = async (until: (o: any) => boolean, what: string, timeoutMs = 90_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const o = (await api("GET", `/api/v1/reboot_orchestrations/${id}`)).json?.data;
        if (o && seen.at(-1) !== o.status) seen.push(o.status);
        if (o && until(o)) return o;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; seen ${seen.join(" → ")}`);
        await sleep(150);
      }
    };
    await watch((o) => o.status === "waiting_for_agent", "waiting_for_agent");

    // The machine reboots (the agent goes away) and, meanwhile, the Worker restarts.
    await agent?.stop();
    expect(await stack.stop()).toBe(0);
    await waitUntil("port free", async () => (await portIsFree(port)) || undefined, { timeoutMs: 15_000 });
    stack = await startStack({ env: { PORT: String(port) }, dataDir, cronInterval: 1 });
    // The restarted Worker still knows the orchestration, waiting for the agent.
    expect((await api("GET", `/api/v1/reboot_orchestrations/${id}`)).json.data.status).toBe(
      "waiting_for_agent",
    );
    await writeFile(bootFile(), "boot-2\n");
    agent = launchAgent({ bundle, stateDir, env: agentEnv() });
    const done = await watch((o) => ["completed", "failed", "cancelled"].includes(o.status), "the end");

    expect(done.status, JSON.stringify(done)).toBe("completed");
    expect(seen.slice(seen.indexOf("waiting_for_agent"))).toEqual([
      "waiting_for_agent",
      "restarting_children",
      "completed",
    ]);
    expect(done.agent_reconnected_at).not.toBeNull();
    expect(done.child_hosts_restart_status).toEqual([
      { id: "docker:api", child_name: "api", restart_status: "running", error: null },
      { id: "lxd:web", child_name: "web", restart_status: "running", error: null },
    ]);
    expect(await childStatus("lxc", "web")).toBe("running");
    expect(await childStatus("docker", "api")).toBe("running");
    // Each step once: two stops, one reboot, two starts, though the Worker restarted in between.
    const log = (await readFile(join(engines(), "log"), "utf8"))
      .trim()
      .split("\n")
      .map((l) =>
        l
          .split(" ")
          .slice(1)
          .join(" ")
          .replace(/ --unit=.*/, ""),
      );
    expect(log.slice(0, 2).sort()).toEqual(["stop docker api", "stop lxc web"]);
    expect(log[2]).toBe("systemd-run --on-active=5s");
    expect(log.slice(3).sort()).toEqual(["start docker api", "start lxc web"]);
    const pa = await api("GET", `/api/v1/power_actions/${done.power_action_id}`);
    expect(pa.json.data).toMatchObject({ status: "completed", previous_boot_id: "boot-1" });
  });
});
