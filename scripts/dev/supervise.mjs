#!/usr/bin/env node
// Runs one child of the dev runner (`node supervise.mjs <command> [args…]`) and takes its whole process
// group down when the runner goes away, even by SIGKILL, which no handler of the runner can see. Linux's
// PR_SET_PDEATHSIG is out of reach from Node, and wrangler can't be changed: instead the runner hands
// this process a pipe as stdin and never writes to it. The kernel closes the runner's end when the
// runner dies, however it dies; EOF here means "orphaned": SIGTERM to the group (the command and its
// descendants, e.g. workerd under wrangler), SIGKILL after a grace period.
//
// The runner spawns this detached, so it leads its own process group; the runner's own stop (a signal
// to the group) reaches the command directly and this process only waits for it and exits the same way.
import { spawn } from "node:child_process";

const GRACE_MS = 3000;
const [command, ...args] = process.argv.slice(2);
if (!command) {
  process.stderr.write("usage: node scripts/dev/supervise.mjs <command> [args…]\n");
  process.exit(2);
}

const killGroup = (signal) => {
  try {
    process.kill(-process.pid, signal);
  } catch {
    // ESRCH: nothing left.
  }
};

// The group's signals are for the command; this process outlives it to report its exit.
const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"];
const ignore = () => {};
for (const signal of SIGNALS) process.on(signal, ignore);

const child = spawn(command, args, { stdio: ["ignore", "inherit", "inherit"] });
let orphaned = false;

child.on("error", (err) => {
  process.stderr.write(`cannot start ${command}: ${err.message}\n`);
  process.exit(127);
});

child.on("exit", (code, signal) => {
  if (orphaned) killGroup("SIGKILL"); // what the command left behind, and this process with it
  if (signal) {
    for (const s of SIGNALS) process.off(s, ignore);
    process.kill(process.pid, signal); // exit the way the command did
  }
  process.exit(code ?? 1);
});

// With the runner gone, its ends of our stdout/stderr are closed too (EPIPE): nothing must throw here.
for (const stream of [process.stdin, process.stdout, process.stderr]) stream.on("error", () => {});
process.stdin.on("close", () => {
  if (orphaned) return;
  orphaned = true;
  killGroup("SIGTERM");
  setTimeout(() => killGroup("SIGKILL"), GRACE_MS).unref();
});
process.stdin.resume();
