// Shared helpers for the agent tests: build the bundle, find Node 20, run the agent as a
// real process, and a minimal stand-in peer (HTTP enrol endpoint + WebSocket) on 127.0.0.1.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type WebSocket, WebSocketServer } from "ws";
import { type AgentFrame, encodeServerFrame, parseAgentFrame } from "../../../src/protocol/frames";
import { node20 } from "../../support/node20";

/** Re-exported: the agent helpers' callers find Node 20 here too. */
export { node20 };

export const ROOT = fileURLToPath(new URL("../../..", import.meta.url));

/** Builds the agent bundle into a fresh temp dir (per test file, so parallel files never race). */
export async function buildBundle(version?: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "outpost-agent-build-"));
  const outfile = join(dir, "outpost-agent.mjs");
  execFileSync(
    process.execPath,
    ["scripts/build-agent.mjs", "--outfile", outfile, ...(version ? ["--version", version] : [])],
    { cwd: ROOT, stdio: "pipe" },
  );
  return outfile;
}

/** A fresh temp dir. */
export function tempDir(prefix = "outpost-agent-test-"): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** A fake /etc/machine-id holding `id`. */
export async function fakeMachineId(dir: string, id = "0123456789abcdef0123456789abcdef"): Promise<string> {
  const file = join(dir, "machine-id");
  await writeFile(file, `${id}\n`);
  return file;
}

/** An ENROLLMENT_KEY blob as the API hands it out. */
export function keyBlob(server: string, key = "secret-key-1"): string {
  return Buffer.from(JSON.stringify({ server, key })).toString("base64");
}

/** Writes identity.json as if the node had enrolled already (so no enrol request is made). */
export async function writeIdentity(
  stateDir: string,
  server: string,
  token = "node-token-1",
): Promise<string> {
  const nodeId = "6f1d5e0c-3b8a-4c55-9a4e-0b7e2f1a9c3d";
  await writeFile(
    join(stateDir, "identity.json"),
    JSON.stringify({
      node_id: nodeId,
      id_type: "random",
      server,
      api_token: token,
      cluster_name: "edge-a",
      enrolled_at: new Date().toISOString(),
    }),
    { mode: 0o600 },
  );
  return nodeId;
}

export interface AgentProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts the bundle on Node 20 with only the environment given (plus PATH). */
export function startAgent(bundle: string, args: string[], env: Record<string, string>): AgentProcess {
  const child = spawn(node20(), [bundle, ...args], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout?.on("data", (c) => {
    out += c;
  });
  child.stderr?.on("data", (c) => {
    err += c;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("close", (code, signal) => resolve({ code, signal })),
  );
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** Runs the bundle to completion. */
export async function runAgentCommand(bundle: string, args: string[], env: Record<string, string>) {
  const agent = startAgent(bundle, args, env);
  const { code } = await agent.exited;
  return { code, stdout: agent.stdout(), stderr: agent.stderr() };
}

/** Polls until `check` returns a truthy value. */
export async function waitFor<T>(
  check: () => T | undefined | null | false,
  timeoutMs = 5000,
  what = "condition",
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** One agent connection as the stand-in server sees it. */
export interface Peer {
  ws: WebSocket;
  request: IncomingMessage;
  frames: AgentFrame[];
  invalid: string[];
  closed: Promise<{ code: number; reason: string }>;
  send(frame: Parameters<typeof encodeServerFrame>[0]): void;
  /** Waits for a frame matching `type` (and `match`), consumed in order. */
  next<T extends AgentFrame["type"]>(
    type: T,
    match?: (f: Extract<AgentFrame, { type: T }>) => boolean,
    timeoutMs?: number,
  ): Promise<Extract<AgentFrame, { type: T }>>;
}

export interface FakeServer {
  url: string;
  enrollRequests: any[];
  peers: Peer[];
  /** Status to refuse WebSocket upgrades with (e.g. 401), or null to accept. */
  refuseUpgrade: number | null;
  nextPeer(timeoutMs?: number): Promise<Peer>;
  close(): Promise<void>;
}

type EnrollResponder = (
  body: any,
  n: number,
) => { status: number; body: unknown; headers?: Record<string, string> };

/** A minimal peer for the agent: `POST /agent/v1/enroll` and `GET /agent/v1/connect` (WebSocket). */
export async function startFakeServer(
  options: { token?: string; enroll?: EnrollResponder } = {},
): Promise<FakeServer> {
  const enrollRequests: any[] = [];
  const peers: Peer[] = [];
  let taken = 0;
  const wss = new WebSocketServer({ noServer: true });
  const server: Server = createServer((req, res) => {
    if (req.method === "POST" && req.url === "/agent/v1/enroll") {
      let text = "";
      req.on("data", (c) => {
        text += c;
      });
      req.on("end", () => {
        const body = JSON.parse(text);
        enrollRequests.push(body);
        const answer = options.enroll?.(body, enrollRequests.length) ?? { status: 404, body: {} };
        res.writeHead(answer.status, { "content-type": "application/json", ...answer.headers });
        res.end(JSON.stringify(answer.body));
      });
      return;
    }
    res.writeHead(404).end();
  });
  const fake: FakeServer = {
    url: "",
    enrollRequests,
    peers,
    refuseUpgrade: null,
    nextPeer: (timeoutMs = 5000) => waitFor(() => peers[taken] && peers[taken++], timeoutMs, "a connection"),
    close: async () => {
      for (const client of wss.clients) client.terminate();
      await new Promise((r) => server.close(r));
      server.closeAllConnections();
    },
  };
  server.on("upgrade", (request, socket, head) => {
    const expected = `Bearer ${options.token ?? "node-token-1"}`;
    if (
      request.url !== "/agent/v1/connect" ||
      fake.refuseUpgrade ||
      request.headers.authorization !== expected
    ) {
      const status = fake.refuseUpgrade ?? 401;
      socket.end(`HTTP/1.1 ${status} Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => {
      const frames: AgentFrame[] = [];
      const invalid: string[] = [];
      const consumed = new Set<AgentFrame>();
      ws.on("message", (data) => {
        const parsed = parseAgentFrame(String(data));
        if ("error" in parsed) invalid.push(parsed.error);
        else frames.push(parsed.frame);
      });
      const closed = new Promise<{ code: number; reason: string }>((resolve) =>
        ws.on("close", (code, reason) => resolve({ code, reason: String(reason) })),
      );
      peers.push({
        ws,
        request,
        frames,
        invalid,
        closed,
        send: (frame) => ws.send(encodeServerFrame(frame)),
        next: (type, match, timeoutMs = 5000) =>
          waitFor(
            () => {
              const found = frames.find(
                (f) => !consumed.has(f) && f.type === type && (!match || match(f as never)),
              );
              if (found) consumed.add(found);
              return found as never;
            },
            timeoutMs,
            `a ${type} frame`,
          ),
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return fake;
}

/** True when no live process has this pid (a zombie awaiting its reaper counts as gone). */
export function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.split(") ")[1]?.startsWith("Z") ?? false;
  } catch {
    return true;
  }
}
