// E2E preamble shared by the files that enrol real agents: a cluster with a name unique to the file
// (files share one stack and must not see each other's rows), an enrollment key, agents started on
// it and awaited until connected, and a cron ticker for files that need the scheduled jobs.
import type { AgentProcess } from "./agent-process";
import { type AgentSpec, type Api, enrollmentKey, launchAgent, readIdentity } from "./command-helpers";
import type { Stack } from "./stack";

/** `prefix-` and 8 random hex characters: a cluster, user or tag name no other file uses. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
}

/** POST /api/v1/clusters, expecting 201. */
export async function createCluster(api: Api, name: string): Promise<string> {
  const res = await api("POST", "/api/v1/clusters", { name });
  if (res.status !== 201)
    throw new Error(`POST /api/v1/clusters ${name}: ${res.status} ${JSON.stringify(res.json)}`);
  return name;
}

/** A new cluster named `prefix-<random>` and a key for `uses` enrolments in it. */
export async function clusterWithKey(
  api: Api,
  prefix: string,
  uses = 1,
): Promise<{ cluster: string; key: string }> {
  const cluster = await createCluster(api, uniqueName(prefix));
  return { cluster, key: await enrollmentKey(api, cluster, uses) };
}

export interface ConnectedAgent {
  agent: AgentProcess;
  nodeId: string;
}

/**
 * Starts agents (each enrolling with its spec's key, or reconnecting with a saved identity) and
 * waits until every one printed "connected"; returns them with their node ids, in spec order.
 */
export async function connectAgents(specs: AgentSpec[], timeoutMs = 30_000): Promise<ConnectedAgent[]> {
  const agents = specs.map((spec) => launchAgent(spec));
  await Promise.all(agents.map((agent) => agent.waitFor(/INFO\s+connected/, { timeoutMs })));
  return Promise.all(
    agents.map(async (agent, i) => ({ agent, nodeId: (await readIdentity(specs[i].stateDir)).node_id })),
  );
}

/** One agent: see connectAgents. */
export async function connectAgent(spec: AgentSpec, timeoutMs = 30_000): Promise<ConnectedAgent> {
  return (await connectAgents([spec], timeoutMs))[0];
}

/**
 * Calls the Worker's scheduled handler every `intervalMs`, as the dev runner's ticker does
 * (`DEV_CRON_INTERVAL`), for a file on the shared stack, whose runner has no ticker. `stop()` waits
 * for a tick in flight.
 */
export function startCronTicker(stack: Stack, intervalMs = 1000): { stop(): Promise<void> } {
  const url = `${stack.url}/cdn-cgi/handler/scheduled?cron=*+*+*+*+*`;
  let inFlight: Promise<void> = Promise.resolve();
  let stopped = false;
  const tick = () => {
    inFlight = fetch(url, { signal: AbortSignal.timeout(30_000) })
      .then(async (res) => {
        const body = await res.text();
        if (!res.ok && !stopped)
          console.error(`[cron] tick failed: HTTP ${res.status} ${body.slice(0, 200)}`);
      })
      .catch((err) => {
        if (!stopped) console.error(`[cron] tick failed: ${err.cause?.code ?? err.message}`);
      });
  };
  // Like the runner's ticker: no second tick while one is running.
  let busy = false;
  const timer = setInterval(() => {
    if (busy || stopped) return;
    busy = true;
    tick();
    inFlight.finally(() => {
      busy = false;
    });
  }, intervalMs);
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await inFlight;
    },
  };
}
