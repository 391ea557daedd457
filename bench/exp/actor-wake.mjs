// What waking an evicted Durable Object costs on the local runtime (issue 23): a Worker calls one
// RPC method on each of N objects, 32 at a time, as the dispatcher does; once with every object
// resident, once after workerd evicted them all (idle > 10 s). Run on the workerd that
// `wrangler dev` runs (Miniflare from node_modules), one variant per process:
//   node bench/exp/actor-wake.mjs [N]
// Variants: an object that reads its SQLite storage on every call, one that never touches storage,
// and the first with its state directory on tmpfs (/dev/shm), to tell the file system's share.
import { execFileSync } from "node:child_process";
import { tmpdir } from "node:os";
import { startWorkerdScript } from "./workerd-script.mjs";

const N = Number(process.argv[2] ?? 1000);
const EVICTED_AFTER_MS = 12_000;

const WORKER = `
import { DurableObject } from "cloudflare:workers";
export class Stored extends DurableObject {
  async push(x) { this.ctx.storage.sql.exec("SELECT 1").toArray(); return x; }
}
export class Bare extends DurableObject {
  async push(x) { return x; }
}
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const ns = url.searchParams.get("ns") === "bare" ? env.BARE : env.STORED;
    const n = Number(url.searchParams.get("n"));
    let next = 0;
    const t = Date.now();
    await Promise.all(Array.from({ length: 32 }, async () => {
      while (next < n) { const i = next++; await ns.get(ns.idFromName("node-" + i)).push(i); }
    }));
    return new Response(String(Date.now() - t));
  },
};`;

const variants = [
  { name: "SQLite storage read per call, state on disk", ns: "stored", root: tmpdir() },
  { name: "no storage access, state on disk", ns: "bare", root: tmpdir() },
  { name: "SQLite storage read per call, state on tmpfs", ns: "stored", root: "/dev/shm" },
];

// One variant per child process, so no variant inherits another's runtime.
if (process.env.ACTOR_WAKE_VARIANT) {
  const v = variants[Number(process.env.ACTOR_WAKE_VARIANT)];
  const worker = await startWorkerdScript({
    name: "actor-wake",
    script: WORKER,
    classes: { STORED: "Stored", BARE: "Bare" },
    root: v.root,
  });
  try {
    const url = worker.url;
    const round = async () => Number(await (await fetch(`${url}?ns=${v.ns}&n=${N}`)).text());
    const created = await round();
    const resident = await round();
    await new Promise((r) => setTimeout(r, EVICTED_AFTER_MS));
    const woken = await round();
    const residentAgain = await round();
    console.log(JSON.stringify({ created, resident, woken, residentAgain }));
  } finally {
    await worker.stop();
  }
} else {
  console.log(`${N} Worker → Durable Object RPC calls, 32 at a time (ms for all; per call in brackets)\n`);
  console.log("| object | first call (created) | resident | after eviction (woken) | woken / resident |");
  console.log("| --- | --- | --- | --- | --- |");
  for (let i = 0; i < variants.length; i++) {
    const out = execFileSync(process.execPath, [new URL(import.meta.url).pathname], {
      env: { ...process.env, ACTOR_WAKE_VARIANT: String(i) },
      encoding: "utf8",
    });
    const r = JSON.parse(out.trim().split("\n").at(-1));
    const per = (ms) => `${ms} (${(ms / N).toFixed(2)})`;
    const resident = Math.min(r.resident, r.residentAgain);
    console.log(
      `| ${variants[i].name} | ${per(r.created)} | ${per(resident)} | ${per(r.woken)} | ${(r.woken / resident).toFixed(1)}× |`,
    );
  }
}
