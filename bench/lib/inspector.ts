// CPU profiles of the Worker through workerd's inspector (`--profile`): wrangler dev starts the
// Worker's workerd with `--inspector-addr=127.0.0.1:0`; its port is found among the process's
// listening sockets, every target of /json/list is profiled over a window, the .cpuprofile files
// (open them in Chrome DevTools) are written next to the results, and the top functions by self
// time are summarised.
import { execFileSync } from "node:child_process";
import { writeFile } from "node:fs/promises";
import WebSocket from "ws";

/** `name` in wrangler.toml. */
const WORKER_NAME = "outpost";

interface Target {
  id: string;
  title: string;
  webSocketDebuggerUrl: string;
}

function listeningPorts(pid: number): number[] {
  try {
    const out = execFileSync("ss", ["-ltnpH"], { encoding: "utf8" });
    return out
      .split("\n")
      .filter((l) => l.includes(`pid=${pid},`))
      .map((l) => Number(/127\.0\.0\.1:(\d+)/.exec(l)?.[1]))
      .filter((p) => p > 0);
  } catch {
    return [];
  }
}

async function targets(pid: number): Promise<Target[]> {
  for (const port of listeningPorts(pid)) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/json/list`, { signal: AbortSignal.timeout(1000) });
      if (!res.ok) continue;
      const list = (await res.json()) as Target[];
      // Only the Worker's own isolate (its Durable Objects run in it): miniflare's internal
      // workers are targets too, and an idle one never answers `Profiler.enable`.
      if (Array.isArray(list)) return list.filter((t) => t.id === `core:user:${WORKER_NAME}`);
    } catch {
      // not the inspector
    }
  }
  return [];
}

class Session {
  private nextId = 1;
  private readonly waiting = new Map<number, (result: any) => void>();
  private constructor(private readonly ws: WebSocket) {
    ws.on("message", (data) => {
      const msg = JSON.parse(String(data));
      if (msg.id && this.waiting.has(msg.id)) {
        this.waiting.get(msg.id)!(msg.result ?? msg.error);
        this.waiting.delete(msg.id);
      }
    });
  }
  static open(url: string): Promise<Session> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.once("open", () => resolve(new Session(ws)));
      ws.once("error", reject);
    });
  }
  send(method: string, params: Record<string, unknown> = {}): Promise<any> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`inspector ${method} timed out`)), 60_000);
      this.waiting.set(id, (r) => {
        clearTimeout(timer);
        resolve(r);
      });
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }
  close() {
    this.ws.close();
  }
}

export interface ProfileSummary {
  file: string;
  target: string;
  total_ms: number;
  top: { fn: string; self_ms: number; percent: number }[];
}

/** Self time per function (name + file:line), highest first. */
function summarize(profile: any, limit: number) {
  const interval = (profile.endTime - profile.startTime) / Math.max(1, profile.samples?.length ?? 1) / 1000;
  const self = new Map<string, number>();
  let total = 0;
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    if (!hits) continue;
    const cf = node.callFrame;
    const file = (cf.url || "").split("/").slice(-2).join("/");
    const key = `${cf.functionName || "(anonymous)"} ${file}${file ? `:${cf.lineNumber + 1}` : ""}`;
    self.set(key, (self.get(key) ?? 0) + hits * interval);
    total += hits * interval;
  }
  return {
    total,
    top: [...self.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, limit)
      .map(([fn, ms]) => ({ fn, self_ms: Math.round(ms), percent: Math.round((ms / total) * 1000) / 10 })),
  };
}

/**
 * workerd handles inspector messages only while the isolate runs something: an idle Worker would
 * leave `Profiler.enable` unanswered, so it is woken with requests until the answer comes.
 */
async function whileWaking<T>(wakeUrl: string, pending: Promise<T>): Promise<T> {
  let done = false;
  const wake = (async () => {
    while (!done) {
      await fetch(wakeUrl, { signal: AbortSignal.timeout(5000) })
        .then((r) => r.arrayBuffer())
        .catch(() => undefined);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  try {
    return await pending;
  } finally {
    done = true;
    await wake;
  }
}

/** Starts profiling every inspector target of workerd `pid` (`wakeUrl`: any cheap URL of the Worker); the returned function stops and saves. */
export async function startProfile(
  pid: number,
  filePrefix: string,
  wakeUrl: string,
): Promise<() => Promise<ProfileSummary[]>> {
  const list = await targets(pid);
  if (!list.length) throw new Error(`no inspector found on workerd ${pid}`);
  const sessions: { target: Target; session: Session }[] = [];
  for (const target of list) {
    const session = await Session.open(target.webSocketDebuggerUrl);
    await whileWaking(wakeUrl, session.send("Profiler.enable"));
    await session.send("Profiler.setSamplingInterval", { interval: 200 });
    await session.send("Profiler.start");
    sessions.push({ target, session });
  }
  return async () => {
    const out: ProfileSummary[] = [];
    for (const [i, { target, session }] of sessions.entries()) {
      const { profile } = await session.send("Profiler.stop");
      session.close();
      if (!profile) continue;
      const file = `${filePrefix}-${i}.cpuprofile`;
      await writeFile(file, JSON.stringify(profile));
      const s = summarize(profile, 20);
      out.push({ file, target: target.title, total_ms: Math.round(s.total), top: s.top });
    }
    return out;
  };
}

/** Markdown: the top functions of each profiled window. */
export function profileMarkdown(windows: { label: string; profiles: ProfileSummary[] }[]): string[] {
  const out: string[] = [];
  for (const w of windows) {
    for (const p of w.profiles) {
      out.push(
        `CPU profile of the Worker (${w.label}, target "${p.target}", ${p.total_ms} ms sampled; ${p.file.split("/").pop()}), top self time:`,
        "",
        "| function | self ms | % |",
        "| --- | --- | --- |",
        ...p.top
          .slice(0, 12)
          .map((t) => `| \`${t.fn.replaceAll("|", "\\|")}\` | ${t.self_ms} | ${t.percent} |`),
        "",
      );
    }
  }
  return out;
}
