// An orchestrated reboot (C10) end to end on the shared stack: a real agent whose child engines are
// stand-ins (a fake `lxc` and `docker` keeping their instances' states in files, named through
// OUTPOST_LXC / OUTPOST_DOCKER), a stand-in systemd-run for the reboot, and the "reboot" itself as
// an agent restart with a new boot id. The orchestration walks every state in order; only the
// children that ran are started again, and one the engine already brought back is left alone.
import { chmod, mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
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
import { type Stack, sharedStack } from "../support/stack";

describe("orchestrated reboot on a real agent with stand-in child engines", () => {
  let stack: Stack;
  let api: Api;
  let workDir: string;
  let bundle: string;
  let stateDir: string;
  let agent: AgentProcess | undefined;
  let nodeId = "";
  const cluster = `reboot-orch-${crypto.randomUUID().slice(0, 8)}`;
  const engines = () => join(workDir, "engines");
  const bootFile = () => join(workDir, "boot-id");
  const agentEnv = () => fakeEngineEnv(workDir);
  const setChild = (engine: string, name: string, status: string) =>
    setFakeChild(workDir, engine, name, status);
  const childStatus = (engine: string, name: string) => fakeChildStatus(workDir, engine, name);

  beforeAll(async () => {
    stack = await sharedStack();
    api = apiClient(() => stack.url, 60_000);
    workDir = await tempDir("outpost-e2e-reboot-orch-");
    bundle = await copyBundle(workDir);
    stateDir = join(workDir, "state");
    await mkdir(join(workDir, "bin"), { recursive: true });
    for (const engine of ["lxc", "docker"]) {
      await mkdir(join(engines(), engine), { recursive: true });
      await writeFile(join(workDir, "bin", engine), FAKE_ENGINE.replaceAll("STATE", engines()));
      await chmod(join(workDir, "bin", engine), 0o755);
    }
    // The reboot's systemd-run: logs, and takes a moment so `rebooting` can be seen.
    await writeFile(
      join(workDir, "bin", "systemd-run"),
      `#!/bin/sh\nsleep 1.5\necho "$(date +%s%3N) systemd-run $*" >> "${engines()}/log"\n`,
    );
    await chmod(join(workDir, "bin", "systemd-run"), 0o755);
    await setChild("lxc", "web", "running");
    await setChild("lxc", "cache", "stopped");
    await setChild("docker", "api", "running");
    await writeFile(bootFile(), "boot-1\n");
    expect((await api("POST", "/api/v1/clusters", { name: cluster })).status).toBe(201);
    const key = await enrollmentKey(api, cluster, 1);
    agent = launchAgent({ bundle, stateDir, key, env: agentEnv() });
    await agent.waitFor(/INFO\s+connected/, { timeoutMs: 30_000 });
    nodeId = (await readIdentity(stateDir)).node_id;
  });

  afterAll(async () => {
    await stopAllAgents();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  printOutputsOnFailure(() => ({ agent: agent?.output() }));

  it("the agent reports its children and the precheck lists the running ones", async () => {
    const pre = await waitUntil(
      "children reported",
      async () => {
        const res = await api("GET", `/api/v1/nodes/${nodeId}/reboot_precheck`);
        return res.json?.data?.total_children === 3 ? res.json.data : undefined;
      },
      { timeoutMs: 30_000 },
    );
    expect(pre).toMatchObject({ has_running_children: true, running_count: 2, has_container_engine: true });
    expect(pre.running_children.map((c: any) => c.id).sort()).toEqual(["docker:api", "lxd:web"]);
  });

  it("walks every state in order and starts again only the children that ran", async () => {
    const res = await api("POST", `/api/v1/nodes/${nodeId}/reboot_orchestrations`, {
      shutdown_timeout_seconds: 20,
    });
    expect(res.status, JSON.stringify(res.json)).toBe(201);
    const id = res.json.data.id;
    const seen: string[] = [res.json.data.status];
    const watch = async (until: (o: any) => boolean, what: string, timeoutMs = 60_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const o = (await api("GET", `/api/v1/reboot_orchestrations/${id}`)).json.data;
        if (o && seen.at(-1) !== o.status) seen.push(o.status);
        if (o && until(o)) return o;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; seen ${seen.join(" → ")}`);
        await sleep(150);
      }
    };

    const waiting = await watch((o) => o.status === "waiting_for_agent", "waiting_for_agent");
    expect(await childStatus("lxc", "web")).toBe("stopped");
    expect(await childStatus("docker", "api")).toBe("stopped");
    expect(waiting.reboot_issued_at).not.toBeNull();
    // The reboot: the agent goes away; the engine's autostart brings `web` back before the agent
    // does; the machine has another boot id.
    await agent?.stop();
    await setChild("lxc", "web", "running");
    await writeFile(bootFile(), "boot-2\n");
    agent = launchAgent({ bundle, stateDir, env: agentEnv() });
    const done = await watch((o) => ["completed", "failed"].includes(o.status), "the end");

    expect(seen).toEqual([
      "pending",
      "shutting_down",
      "rebooting",
      "waiting_for_agent",
      "restarting_children",
      "completed",
    ]);
    const phases = [
      done.initiated_at,
      done.shutdown_completed_at,
      done.reboot_issued_at,
      done.agent_reconnected_at,
      done.restart_completed_at,
    ].map((t: string) => Date.parse(t));
    expect(phases.every((t) => Number.isFinite(t))).toBe(true);
    expect([...phases].sort((a, b) => a - b)).toEqual(phases);
    expect(done.child_hosts_restart_status).toEqual([
      { id: "docker:api", child_name: "api", restart_status: "running", error: null },
      { id: "lxd:web", child_name: "web", restart_status: "running", error: null },
    ]);
    // Stopped first, rebooted, then only `api` started (web was already up; cache never ran).
    const log = (await readFile(join(engines(), "log"), "utf8"))
      .trim()
      .split("\n")
      .map((l) => l.split(" ").slice(1).join(" "));
    expect(log.slice(0, 2).sort()).toEqual(["stop docker api", "stop lxc web"]);
    expect(log[2]).toMatch(/^systemd-run --on-active=5s --unit=outpost-power-\S+ \S+ reboot$/);
    expect(log.slice(3)).toEqual(["start docker api"]);
    expect(await childStatus("lxc", "cache")).toBe("stopped");
    expect(await childStatus("docker", "api")).toBe("running");
    const pa = await api("GET", `/api/v1/power_actions/${done.power_action_id}`);
    expect(pa.json.data).toMatchObject({ status: "completed", previous_boot_id: "boot-1" });
    expect((await readdir(join(engines(), "lxc"))).sort()).toEqual(["cache", "web"]);
  });
});
