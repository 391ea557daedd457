// The trial run of a new version: start it, watch it until it confirms or fails, and, after the
// agent stopped for a restart, hand over to it or roll back (see agent/self-update.ts).
import { type ChildProcess, spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { removeFile } from "../files";
import type { Logger } from "../log";
import { restorePrevious, runningBundle } from "./bundle";
import { clearMarker, readMarker, writeMarker } from "./marker";
import { EXIT_RESTART, restartMode, type SelfUpdateSettings } from "./settings";

const KILL_GRACE_MS = 10_000;
const POLL_MS = 200;

/** The same process again: same Node flags, same bundle path, same arguments, same environment. */
export function startSelf(bundle: string, detached: boolean): ChildProcess {
  return spawn(process.execPath, [...process.execArgv, bundle, ...process.argv.slice(2)], {
    env: process.env,
    stdio: "inherit",
    detached,
  });
}

async function stopChild(child: ChildProcess, exited: Promise<unknown>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), KILL_GRACE_MS);
  await exited;
  clearTimeout(timer);
}

/**
 * Watches a trial: resolves `confirmed` when the marker says so, else kills the child and
 * resolves the reason — it exited first, or `timeoutMs` passed.
 */
export async function superviseTrial(options: {
  stateDir: string;
  child: ChildProcess;
  timeoutMs: number;
  version: string;
}): Promise<{ confirmed: true } | { confirmed: false; reason: string }> {
  const { child, stateDir } = options;
  let exitedWith: string | null = null;
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    child.once("exit", (code, signal) => {
      exitedWith = signal ? `signal ${signal}` : `code ${code}`;
      resolve();
    });
    child.once("error", (error) => {
      exitedWith = `error ${error.message}`;
      resolve();
    });
  });
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    if ((await readMarker(stateDir))?.state === "confirmed") return { confirmed: true };
    if (exitedWith) {
      return {
        confirmed: false,
        reason: `version ${options.version} exited (${exitedWith}) before it reconnected`,
      };
    }
    if (Date.now() >= deadline) {
      await stopChild(child, exited);
      return {
        confirmed: false,
        reason: `version ${options.version} did not reconnect within ${Math.ceil(options.timeoutMs / 1000)} s`,
      };
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/**
 * After the runtime stopped for a restart (EXIT_RESTART): supervise the trial this process
 * started, or simply start again. Returns the process exit code.
 */
export async function restartAfterStop(
  stateDir: string,
  settings: SelfUpdateSettings,
  log: Logger,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const mode = restartMode(env);
  const marker = await readMarker(stateDir);
  const restart = (bundle: string) => {
    if (mode === "exit") return EXIT_RESTART;
    startSelf(bundle, true).unref();
    return 0;
  };
  const bundle = marker?.bundle || runningBundle();
  if (!bundle) return EXIT_RESTART;
  // A shutdown that timed out may have left our pid lock behind; the next process needs it.
  const lockFile = join(stateDir, "agent.pid");
  if ((await readFile(lockFile, "utf8").catch(() => "")).trim() === String(process.pid))
    await removeFile(lockFile);
  if (marker?.state !== "trial" || marker.watchdog_pid !== process.pid) return restart(bundle);

  log.info("starting the new version and watching it", {
    to: marker.to_version,
    timeout_s: settings.timeoutMs / 1000,
    mode,
  });
  const child = startSelf(bundle, mode === "spawn");
  const onSignal = () => {
    // Stopped during the trial: stop the trial too; its next start finds the marker and finishes the job.
    child.kill("SIGTERM");
    process.exit(0);
  };
  // Ahead of the runtime's signal handlers (still wired), which would exit without stopping the trial.
  process.prependOnceListener("SIGTERM", onSignal);
  process.prependOnceListener("SIGINT", onSignal);
  const outcome = await superviseTrial({
    stateDir,
    child,
    timeoutMs: settings.timeoutMs,
    version: marker.to_version,
  });
  process.off("SIGTERM", onSignal);
  process.off("SIGINT", onSignal);
  if (outcome.confirmed) {
    await clearMarker(stateDir);
    log.info("the new version is connected; handing over", { version: marker.to_version, mode });
    if (mode === "exit") return EXIT_RESTART;
    child.unref();
    return 0;
  }
  let message = `${outcome.reason}; restored ${marker.from_version}`;
  try {
    await restorePrevious(bundle);
  } catch (error) {
    message = `${outcome.reason}; could not restore ${marker.from_version}: ${(error as Error).message}`;
  }
  log.error(`self-update failed: ${message}`);
  await writeMarker(stateDir, {
    ...marker,
    state: "failed",
    watchdog_pid: null,
    failed_at: new Date().toISOString(),
    message,
  }).catch((error) => log.warn("cannot write the self-update marker", { problem: (error as Error).message }));
  // Whatever is in place now runs again; never leave the node without an agent.
  return restart(bundle);
}
