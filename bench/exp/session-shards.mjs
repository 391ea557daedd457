// Issue 23's design question, measured on the workerd that `wrangler dev` runs: N WebSocket
// clients heartbeating every 15 s into one hibernating Durable Object each (today's NodeSession
// layout) or into shards of S clients per object. For each layout: fan-outs of one frame to every
// client (the Worker calls each object, 32 at a time, which sends to its sockets; every client
// answers, the object counts), each started past workerd's 10 s eviction, and a no-I/O request's
// latency while they run against idle.
//   node bench/exp/session-shards.mjs [N] [S]     (defaults 2500 and 250)
//   YIELD=1 node bench/exp/session-shards.mjs ...  the Worker waits a timer turn after each call
// A request waits for a whole fan-out here: the Worker's calls into objects of the same process keep
// workerd's event queue non-empty, and workerd reads its sockets only once that queue drains; with
// YIELD=1 every call ends on a timer, which fires only after a socket read.
// Objects keep the heartbeat's time in SQLite, as a session's presence does; nothing else of
// Outpost runs, so this shows what the layout costs, not what Outpost's frame handling costs.
import WebSocket from "ws";
import { startWorkerdScript } from "./workerd-script.mjs";

const N = Number(process.argv[2] ?? 2500);
const SHARD = Number(process.argv[3] ?? 250);
const HEARTBEAT_MS = 15_000;
const REST_MS = 16_000;
const FANOUTS = 3;

const WORKER = `
import { DurableObject } from "cloudflare:workers";
export class Session extends DurableObject {
  async fetch(request) {
    const pair = new WebSocketPair();
    this.ctx.acceptWebSocket(pair[1], [new URL(request.url).searchParams.get("node")]);
    return new Response(null, { status: 101, webSocket: pair[0] });
  }
  webSocketMessage(ws, message) {
    const frame = JSON.parse(message);
    if (frame.type === "heartbeat") {
      this.ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS seen (node TEXT PRIMARY KEY, at INTEGER)");
      this.ctx.storage.sql.exec("INSERT OR REPLACE INTO seen VALUES (?, ?)", frame.node, Date.now());
    } else if (frame.type === "result") {
      this.results = (this.results ?? 0) + 1;
    }
  }
  push(id) {
    let sent = 0;
    for (const ws of this.ctx.getWebSockets()) { ws.send(JSON.stringify({ type: "exec", id })); sent++; }
    return sent;
  }
}
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/ping") return new Response("pong");
    if (url.pathname === "/connect") return env.SESSION.get(env.SESSION.idFromName(url.searchParams.get("object"))).fetch(request);
    if (url.pathname === "/fanout") {
      const objects = Number(url.searchParams.get("objects"));
      const id = url.searchParams.get("id");
      const yieldEach = url.searchParams.get("yield") === "1";
      let next = 0, sent = 0;
      await Promise.all(Array.from({ length: 32 }, async () => {
        while (next < objects) {
          const i = next++;
          sent += await env.SESSION.get(env.SESSION.idFromName("o" + i)).push(id);
          if (yieldEach) await new Promise((resolve) => setTimeout(resolve, 0));
        }
      }));
      return new Response(String(sent));
    }
    return new Response("not found", { status: 404 });
  },
};`;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pct = (xs, p) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

async function layout(name, perObject) {
  const worker = await startWorkerdScript({
    name: "session-shards",
    script: WORKER,
    classes: { SESSION: "Session" },
  });
  const { url } = worker;
  const objects = Math.ceil(N / perObject);
  const clients = [];
  const timers = [];
  let received = 0;
  let fanoutId = null;
  for (let i = 0; i < N; i++) {
    const ws = new WebSocket(`ws://${url.host}/connect?object=o${Math.floor(i / perObject)}&node=n${i}`);
    await new Promise((resolve, reject) => {
      ws.once("open", resolve);
      ws.once("error", reject);
    });
    ws.on("message", (data) => {
      const frame = JSON.parse(String(data));
      if (frame.type === "exec" && frame.id === fanoutId) {
        received++;
        ws.send(JSON.stringify({ type: "result", id: frame.id }));
      }
    });
    const beat = () =>
      ws.readyState === WebSocket.OPEN && ws.send(JSON.stringify({ type: "heartbeat", node: `n${i}` }));
    beat();
    // Spread over the interval as a fleet's agents are.
    timers.push(setTimeout(() => timers.push(setInterval(beat, HEARTBEAT_MS)), Math.random() * HEARTBEAT_MS));
    clients.push(ws);
  }
  const idle = [];
  await sleep(REST_MS);
  for (let i = 0; i < 40; i++) {
    const t = performance.now();
    await (await fetch(`${url.origin}/ping`)).text();
    idle.push(performance.now() - t);
    await sleep(50);
  }
  const times = [];
  const busy = [];
  for (let f = 0; f < FANOUTS; f++) {
    await sleep(REST_MS);
    fanoutId = `f${f}`;
    received = 0;
    const t0 = performance.now();
    let done = false;
    const probe = (async () => {
      while (!done) {
        const t = performance.now();
        await (await fetch(`${url.origin}/ping`)).text();
        busy.push(performance.now() - t);
        await sleep(50);
      }
    })();
    await (
      await fetch(
        `${url.origin}/fanout?objects=${objects}&id=${fanoutId}&yield=${process.env.YIELD === "1" ? 1 : 0}`,
      )
    ).text();
    while (received < N) await sleep(5);
    times.push(performance.now() - t0);
    done = true;
    await probe;
  }
  // clearTimeout clears an interval as well (one Timeout class in Node).
  for (const t of timers) clearTimeout(t);
  for (const ws of clients) ws.terminate();
  await worker.stop();
  const ms = (x) => Math.round(x);
  return {
    name,
    objects,
    fanouts: times.map(ms),
    spread: (Math.max(...times) / Math.min(...times)).toFixed(2),
    ping_idle_p99: ms(pct(idle, 99)),
    ping_busy_p99: ms(pct(busy, 99)),
  };
}

console.log(
  `${N} clients, heartbeat every 15 s, ${FANOUTS} fan-outs each ${REST_MS / 1000} s after the previous${process.env.YIELD === "1" ? ", a timer turn after each call" : ""}\n`,
);
console.log("| layout | objects | fan-out to all, ms | spread | /ping p99 idle / during fan-outs, ms |");
console.log("| --- | --- | --- | --- | --- |");
for (const [name, per] of [
  ["one object per node", 1],
  [`one object per ${SHARD} nodes`, SHARD],
]) {
  const r = await layout(name, per);
  console.log(
    `| ${r.name} | ${r.objects} | ${r.fanouts.join(", ")} | ${r.spread} | ${r.ping_idle_p99} / ${r.ping_busy_p99} |`,
  );
}
