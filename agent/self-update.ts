// Self-update: download a release, verify its SHA-256, swap it in for the running bundle (keeping
// `<bundle>.previous`), restart, and roll back when the new version does not reconnect in time.
//
// The restart works with and without systemd. The old process stops being an agent (commands
// stopped, connection closed, lock released), starts the new bundle with the same argv and
// environment, and stays on as its watchdog until the new one writes `confirmed` into the marker
// file (it does so when the server answers its hello) or the deadline passes:
//   - confirmed: without systemd the new process was started detached and simply carries on; the
//     watchdog exits 0. Under systemd (INVOCATION_ID set) the watchdog exits 75 and systemd
//     (Restart=always) starts the service again, now on the new bundle.
//   - not confirmed in time, or the new process exited first: it is killed, the previous bundle
//     restored, the failure written into the marker, and the restored bundle restarted the same way.
// The marker (`<state>/self-update.json`) is read at every start: a recorded failure is reported
// on the next connection (an `error` frame once, and a failing `self_update` heartbeat check for
// OUTPOST_SELF_UPDATE_REPORT_SECONDS, which makes the node `unhealthy` meanwhile).
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { chmod, copyFile, open, readFile, rename, stat, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type * as v from "valibot";
import type { SelfUpdateFrame } from "../src/protocol/frames";
import { ConfigError } from "./config";
import type { OutgoingFrame } from "./connection";
import { readJsonFile, removeFile, writeFileAtomic } from "./files";
import type { Logger } from "./log";
import { isProcessAlive } from "./status";

/** Exit code asking the supervisor (systemd, `Restart=always`) to start the agent again. */
export const EXIT_RESTART = 75;
export const MARKER_FILE = "self-update.json";
/** Largest bundle the agent downloads. */
export const MAX_BUNDLE_BYTES = 64 * 1024 * 1024;
const DOWNLOAD_TIMEOUT_MS = 120_000;
const VERSION_CHECK_TIMEOUT_MS = 15_000;
const KILL_GRACE_MS = 10_000;
const POLL_MS = 200;

export type SelfUpdate = v.InferOutput<typeof SelfUpdateFrame>;

/** What the agent remembers about an update across restarts. */
export interface Marker {
  state: "trial" | "confirmed" | "failed";
  from_version: string;
  to_version: string;
  /** The bundle file that was replaced. */
  bundle: string;
  /** The old process supervising the trial; null when none is (e.g. a refused download). */
  watchdog_pid: number | null;
  started_at: string;
  failed_at?: string;
  message?: string;
}

export interface SelfUpdateSettings {
  /** How long a new version has to reconnect before it is rolled back. */
  timeoutMs: number;
  /** How long a failure is reported as a failing `self_update` check. */
  reportMs: number;
}

/** A download the agent will not install: wrong checksum, too large, wrong version, HTTP error. */
export class UpdateRefused extends Error {}

function seconds(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max)
    throw new ConfigError(
      `${name} must be a whole number of seconds between ${min} and ${max} (got "${raw}")`,
    );
  return Number(raw);
}

/**
 * OUTPOST_SELF_UPDATE_TIMEOUT_SECONDS (default 60) and OUTPOST_SELF_UPDATE_REPORT_SECONDS
 * (default 600), validated at boot.
 * @throws ConfigError naming the variable
 */
export function selfUpdateSettings(env: NodeJS.ProcessEnv): SelfUpdateSettings {
  return {
    timeoutMs: seconds(env, "OUTPOST_SELF_UPDATE_TIMEOUT_SECONDS", 60, 1, 3600) * 1000,
    reportMs: seconds(env, "OUTPOST_SELF_UPDATE_REPORT_SECONDS", 600, 0, 86_400) * 1000,
  };
}

/** `exit` under systemd (it restarts the service), else `spawn` (start a detached copy, then exit). */
export function restartMode(env: NodeJS.ProcessEnv): "exit" | "spawn" {
  return env.INVOCATION_ID ? "exit" : "spawn";
}

/**
 * The bundle file this process runs, or null when it does not run from a bundle (tests,
 * `tsx agent/main.ts`): then there is nothing to replace.
 */
export function runningBundle(moduleUrl = import.meta.url): string | null {
  // Bundled, this module is the bundle itself (esbuild keeps import.meta.url); unbundled it is a .ts file.
  const self = fileURLToPath(moduleUrl);
  return self.endsWith(".mjs") ? self : null;
}

const markerPath = (stateDir: string) => join(stateDir, MARKER_FILE);

/** The marker, or null when there is none (or it is unreadable: it is then ignored). */
export async function readMarker(stateDir: string): Promise<Marker | null> {
  try {
    return (await readJsonFile(markerPath(stateDir))) as Marker | null;
  } catch {
    return null;
  }
}

export async function writeMarker(stateDir: string, marker: Marker): Promise<void> {
  await writeFileAtomic(markerPath(stateDir), `${JSON.stringify(marker, null, 2)}\n`);
}

export async function clearMarker(stateDir: string): Promise<void> {
  await removeFile(markerPath(stateDir));
}

const tempBeside = (file: string, suffix: string) =>
  join(dirname(file), `.${basename(file, ".mjs")}.${randomBytes(6).toString("hex")}${suffix}`);

/**
 * Downloads `url` into a temp file beside `bundle` (same filesystem, so it can be renamed over
 * it), hashing as it goes. Returns the temp path; nothing is left behind on failure.
 * @throws UpdateRefused on an HTTP error, a body over `maxBytes` or a SHA-256 mismatch
 */
export async function downloadVerified(
  url: string,
  sha256: string,
  bundle: string,
  options: { timeoutMs?: number; maxBytes?: number } = {},
): Promise<string> {
  const maxBytes = options.maxBytes ?? MAX_BUNDLE_BYTES;
  const res = await fetch(url, { signal: AbortSignal.timeout(options.timeoutMs ?? DOWNLOAD_TIMEOUT_MS) });
  if (!res.ok || !res.body) throw new UpdateRefused(`download failed: HTTP ${res.status} from ${url}`);
  if (Number(res.headers.get("content-length") ?? 0) > maxBytes)
    throw new UpdateRefused(`the bundle is larger than ${maxBytes} bytes`);
  const temp = tempBeside(bundle, ".mjs");
  const handle = await open(temp, "wx", 0o600);
  const hash = createHash("sha256");
  let size = 0;
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      size += chunk.byteLength;
      if (size > maxBytes) throw new UpdateRefused(`the bundle is larger than ${maxBytes} bytes`);
      hash.update(chunk);
      await handle.write(chunk);
    }
    await handle.sync();
    await handle.close();
    const actual = hash.digest("hex");
    if (actual !== sha256.toLowerCase())
      throw new UpdateRefused(`checksum mismatch: expected sha256 ${sha256}, got ${actual}`);
    return temp;
  } catch (error) {
    await handle.close().catch(() => {});
    await unlink(temp).catch(() => {});
    throw error;
  }
}

/**
 * Runs `<bundle> --version` and checks it prints `expected`, so a bundle that cannot even start
 * (or is another version than announced) is refused before it replaces anything.
 * @throws UpdateRefused
 */
export function checkBundleVersion(bundle: string, expected: string, node = process.execPath): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(
      node,
      [bundle, "--version"],
      { timeout: VERSION_CHECK_TIMEOUT_MS, env: { PATH: process.env.PATH ?? "/usr/bin:/bin" } },
      (error, stdout) => {
        const printed = String(stdout).trim();
        if (!error && printed === expected) return resolve();
        reject(
          new UpdateRefused(
            error
              ? `the new bundle does not start (${error.message.split("\n")[0]})`
              : `the new bundle reports version ${JSON.stringify(printed)}, expected ${expected}`,
          ),
        );
      },
    );
  });
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, "r").catch(() => null);
  await handle
    ?.sync()
    .catch(() => {})
    .finally(() => handle.close());
}

async function replaceWithCopy(source: string, target: string): Promise<void> {
  const temp = tempBeside(target, ".tmp");
  try {
    await copyFile(source, temp);
    await rename(temp, target);
  } catch (error) {
    await unlink(temp).catch(() => {});
    throw error;
  }
}

/**
 * Puts `downloaded` in place of `bundle` atomically (rename in the same directory) with the
 * bundle's file mode, after copying the current bundle to `<bundle>.previous`.
 */
export async function installBundle(bundle: string, downloaded: string): Promise<void> {
  const mode = (await stat(bundle)).mode & 0o7777;
  await chmod(downloaded, mode);
  await replaceWithCopy(bundle, `${bundle}.previous`);
  await rename(downloaded, bundle);
  await syncDir(dirname(bundle));
}

/** Puts `<bundle>.previous` back in place (atomically; the `.previous` copy stays). */
export async function restorePrevious(bundle: string): Promise<void> {
  await replaceWithCopy(`${bundle}.previous`, bundle);
  await syncDir(dirname(bundle));
}

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

export interface SelfUpdaterOptions {
  stateDir: string;
  /** The running bundle file; null when not running from one (updates are then refused). */
  bundle: string | null;
  version: string;
  settings: SelfUpdateSettings;
  log: Logger;
  /** Sends a frame now if connected. */
  send(frame: OutgoingFrame): boolean;
  /** Stops the agent and leaves it to main() to restart (runAgent resolves EXIT_RESTART). */
  requestRestart(): void;
  /** Checks the version a downloaded bundle reports (injectable for tests). */
  checkVersion?: (bundle: string, expected: string) => Promise<void>;
}

/**
 * The agent's side of self-updates while it runs: the `self_update` frame, confirming its own
 * trial when the server answers, and reporting a failed update (marker written by whoever failed).
 */
export class SelfUpdater {
  private busy = false;
  private trial: Marker | null = null;
  private confirmed = false;
  private report: { message: string; until: number } | null = null;
  private reportSent = false;
  private selfDeadline: NodeJS.Timeout | undefined;

  constructor(private readonly options: SelfUpdaterOptions) {}

  /** Reads the marker at start: a trial to confirm, a failure to report, or leftovers to clear. */
  async start(): Promise<void> {
    try {
      await this.readStartMarker();
    } catch (error) {
      this.options.log.warn("cannot process the self-update marker", { problem: (error as Error).message });
    }
  }

  private async readStartMarker(): Promise<void> {
    const { stateDir, version, log } = this.options;
    const marker = await readMarker(stateDir);
    if (!marker) return;
    if (marker.state === "confirmed") {
      await clearMarker(stateDir);
      return;
    }
    if (marker.state === "trial" && marker.to_version === version) {
      this.trial = marker;
      log.info("running a new version on trial; it is confirmed once the server answers", {
        from: marker.from_version,
        to: version,
      });
      // Nobody watches this trial (reboot, killed watchdog): enforce the deadline ourselves.
      if (!marker.watchdog_pid || !isProcessAlive(marker.watchdog_pid)) {
        this.selfDeadline = setTimeout(() => void this.rollBackSelf(), this.options.settings.timeoutMs);
        this.selfDeadline.unref?.();
      }
      return;
    }
    if (marker.state === "trial") {
      // The update never reached its trial (the agent stopped in between): the old version runs.
      await this.fail(marker, `the update to ${marker.to_version} was interrupted; still running ${version}`);
      return;
    }
    await this.loadReport(marker);
  }

  private async loadReport(marker: Marker): Promise<void> {
    const until = Date.parse(marker.failed_at ?? "") + this.options.settings.reportMs;
    if (!(until > Date.now())) {
      await clearMarker(this.options.stateDir);
      return;
    }
    this.report = { message: marker.message ?? "self-update failed", until };
    this.reportSent = false;
  }

  private async fail(marker: Marker, message: string): Promise<void> {
    this.options.log.error(`self-update failed: ${message}`, { to: marker.to_version });
    const failed: Marker = {
      ...marker,
      state: "failed",
      watchdog_pid: null,
      failed_at: new Date().toISOString(),
      message,
    };
    await writeMarker(this.options.stateDir, failed).catch((error) =>
      this.options.log.warn("cannot write the self-update marker", { problem: (error as Error).message }),
    );
    await this.loadReport(failed);
    this.reportNow();
  }

  private reportNow(): void {
    if (!this.report || this.reportSent) return;
    this.reportSent = this.options.send({
      type: "error",
      code: "self_update_failed",
      message: this.report.message,
    });
  }

  private async rollBackSelf(): Promise<void> {
    if (this.confirmed || !this.trial) return;
    const { log, stateDir } = this.options;
    const message = `version ${this.trial.to_version} did not reconnect within ${Math.ceil(this.options.settings.timeoutMs / 1000)} s; restored ${this.trial.from_version}`;
    try {
      await restorePrevious(this.trial.bundle);
    } catch (error) {
      log.error("cannot restore the previous bundle; staying on this version", {
        problem: (error as Error).message,
      });
      return;
    }
    await writeMarker(stateDir, {
      ...this.trial,
      state: "failed",
      watchdog_pid: null,
      failed_at: new Date().toISOString(),
      message,
    });
    log.error(`self-update failed: ${message}; restarting`);
    this.options.requestRestart();
  }

  /** The socket opened (hello sent): report a pending failure once. */
  onConnected(): void {
    this.reportNow();
  }

  /** The server answered hello with `config`: a trial run is now confirmed. */
  async onServerAnswered(): Promise<void> {
    if (!this.trial || this.confirmed) return;
    this.confirmed = true;
    clearTimeout(this.selfDeadline);
    const watched = this.trial.watchdog_pid !== null && isProcessAlive(this.trial.watchdog_pid);
    this.options.log.info("update confirmed: this version reached the server", {
      from: this.trial.from_version,
      to: this.options.version,
    });
    const trial = this.trial;
    this.trial = null;
    try {
      if (watched) await writeMarker(this.options.stateDir, { ...trial, state: "confirmed" });
      else await clearMarker(this.options.stateDir);
    } catch (error) {
      // The watchdog then rolls back at its deadline: a version that cannot write its state is no good either.
      this.options.log.error("cannot record the confirmed update", { problem: (error as Error).message });
    }
  }

  /** Heartbeat checks: a failing `self_update` while a failure is being reported. */
  checks(): { name: string; ok: boolean; message?: string }[] {
    if (!this.report) return [];
    if (Date.now() >= this.report.until) {
      this.report = null;
      void clearMarker(this.options.stateDir).catch(() => {});
      return [];
    }
    return [{ name: "self_update", ok: false, message: this.report.message }];
  }

  /** Handles `self_update`: download, verify, install, restart (or refuse and report). */
  async handle(frame: SelfUpdate): Promise<void> {
    const { log, version, bundle, stateDir } = this.options;
    if (frame.version === version) {
      log.info("self_update names the version already running; nothing to do", { version });
      return;
    }
    if (this.busy || (this.trial && !this.confirmed)) {
      log.warn("self_update ignored: an update is already in progress", { version: frame.version });
      return;
    }
    // A new attempt supersedes the report of an earlier failure (and its marker).
    this.report = null;
    const marker: Marker = {
      state: "trial",
      from_version: version,
      to_version: frame.version,
      bundle: bundle ?? "",
      watchdog_pid: process.pid,
      started_at: new Date().toISOString(),
    };
    if (!bundle) {
      await this.fail(marker, "this agent does not run from a bundle file; it cannot replace itself");
      return;
    }
    this.busy = true;
    let downloaded: string | null = null;
    try {
      log.info("self-update: downloading", { from: version, to: frame.version, url: frame.url });
      downloaded = await downloadVerified(frame.url, frame.sha256, bundle);
      await (this.options.checkVersion ?? checkBundleVersion)(downloaded, frame.version);
      await writeMarker(stateDir, marker);
      await installBundle(bundle, downloaded);
      downloaded = null;
    } catch (error) {
      if (downloaded) await unlink(downloaded).catch(() => {});
      this.busy = false;
      // Nothing was replaced (installBundle renames last): keep running this version.
      await this.fail(marker, `${(error as Error).message}; still running ${version}`);
      return;
    }
    log.info("self-update: new bundle installed; restarting", { from: version, to: frame.version });
    this.options.requestRestart();
  }
}

/**
 * After runAgent stopped for a restart (EXIT_RESTART): supervise the trial this process
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
  // Ahead of runAgent's own handlers, which would exit without stopping the trial.
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
