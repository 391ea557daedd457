import { encodeAgentFrame, parseServerFrame, type ServerFrame } from "../../src/protocol/frames";
import type { TestApi } from "./harness";

export const HOST = {
  cpu: { cores: 4, load_1m: 0.5, load_5m: 0.4, load_15m: 0.3, usage_percent: 12.5 },
  memory: { total_bytes: 8 * 1024 ** 3, available_bytes: 6 * 1024 ** 3, used_bytes: 2 * 1024 ** 3 },
  disk: { total_bytes: 100 * 1024 ** 3, available_bytes: 40 * 1024 ** 3, used_bytes: 60 * 1024 ** 3 },
  uptime_seconds: 90_061,
};

export const AGENT = {
  version: "1.2.3",
  uptime_seconds: 10,
  rss_bytes: 40_000_000,
  commands_run: 3,
  commands_failed: 1,
  reconnects: 0,
  frames_in: 5,
  frames_out: 6,
  errors: 0,
  ssh_verifications: 0,
};

/** Enrols a node through the gateway with a fresh key of `cluster`; returns its id and token. */
export async function enrolNode(
  api: TestApi,
  cluster: string,
  nodeId = crypto.randomUUID(),
  idType = "random",
) {
  const key = (await api.post(`/api/v1/clusters/${cluster}/enrollment_keys`, {})).body.data.key;
  const secret = JSON.parse(atob(key)).key;
  const res = await api.fetch("/agent/v1/enroll", {
    method: "POST",
    auth: null,
    json: {
      key: secret,
      node_id: nodeId,
      id_type: idType,
      hostname: "host-a",
      platform: "linux",
      version: "1.2.3",
    },
  });
  const body = await res.json<any>();
  if (res.status !== 201) throw new Error(`enrol failed: ${res.status} ${JSON.stringify(body)}`);
  return { nodeId: body.data.id as string, token: body.data.api_token as string, node: body.data };
}

/** A real WebSocket to `/agent/v1/connect`, with a queue of the frames the server sent and the close event. */
export async function connectAgent(api: TestApi, token: string) {
  const res = await api.fetch("/agent/v1/connect", {
    headers: { upgrade: "websocket", authorization: `Bearer ${token}` },
    auth: null,
  });
  if (res.status !== 101 || !res.webSocket)
    throw new Error(`upgrade refused: ${res.status} ${await res.text()}`);
  const ws = res.webSocket;
  ws.accept();
  const frames: ServerFrame[] = [];
  const waiters: (() => void)[] = [];
  let closed: { code: number; reason: string } | null = null;
  ws.addEventListener("message", (e) => {
    const parsed = parseServerFrame(String(e.data));
    if ("frame" in parsed) frames.push(parsed.frame);
    for (const w of waiters.splice(0)) w();
  });
  ws.addEventListener("close", (e) => {
    closed = { code: e.code, reason: e.reason };
    for (const w of waiters.splice(0)) w();
  });
  async function until<T>(
    check: () => T | undefined | null | false,
    what: string,
    // Generous: the suite runs beside the e2e project, and a loaded machine answers late, not never.
    timeoutMs = 15_000,
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = check();
      if (hit) return hit;
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${what}; frames: ${JSON.stringify(frames)}`);
      await new Promise<void>((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }
  return {
    ws,
    frames,
    get closed() {
      return closed;
    },
    send: (frame: Parameters<typeof encodeAgentFrame>[0]) => ws.send(encodeAgentFrame(frame)),
    sendRaw: (text: string) => ws.send(text),
    hello: (interval = 15) =>
      ws.send(
        encodeAgentFrame({
          type: "hello",
          agent_version: "1.2.3",
          hostname: "host-a",
          platform: "linux",
          capabilities: [],
          heartbeat_interval_seconds: interval,
        }),
      ),
    heartbeat: (checks: { name: string; ok: boolean }[] = []) =>
      ws.send(encodeAgentFrame({ type: "heartbeat", host: HOST, agent: AGENT, checks })),
    next: <T extends ServerFrame["type"]>(type: T) =>
      until(
        () => frames.find((f) => f.type === type) as Extract<ServerFrame, { type: T }> | undefined,
        `a ${type} frame`,
      ),
    waitClosed: () => until(() => closed, "close"),
    until,
  };
}

/** Enrols a node in `cluster` and connects it as an agent whose hello announced `capabilities` and that got its `config`. */
export async function connectedAgent(api: TestApi, cluster: string, capabilities: string[]) {
  const { nodeId, token } = await enrolNode(api, cluster);
  const agent = await connectAgent(api, token);
  agent.send({
    type: "hello",
    agent_version: "1.2.3",
    hostname: "h",
    platform: "linux",
    capabilities,
    heartbeat_interval_seconds: 15,
  });
  await agent.next("config");
  return { nodeId, agent };
}
