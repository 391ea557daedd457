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
import { unlink } from "node:fs/promises";
import type * as v from "valibot";
import { CHECK_LIMITS, type SelfUpdateFrame } from "../src/protocol/frames";
import type { OutgoingFrame } from "./connection";
import type { Logger } from "./log";
import { checkBundleVersion, downloadVerified, installBundle, restorePrevious } from "./self-update/bundle";
import { clearMarker, type Marker, readMarker, writeMarker } from "./self-update/marker";
import { releaseRefusal } from "./self-update/policy";
import type { SelfUpdateSettings } from "./self-update/settings";
import { isProcessAlive } from "./status";

export {
  checkBundleVersion,
  downloadVerified,
  installBundle,
  MAX_BUNDLE_BYTES,
  restorePrevious,
  runningBundle,
  UpdateRefused,
} from "./self-update/bundle";
export { clearMarker, MARKER_FILE, type Marker, readMarker, writeMarker } from "./self-update/marker";
export {
  EXIT_RESTART,
  restartMode,
  type SelfUpdateSettings,
  selfUpdateSettings,
} from "./self-update/settings";
export { restartAfterStop, startSelf, superviseTrial } from "./self-update/trial";

/** The `self_update` frame the server sends. */
export type SelfUpdate = v.InferOutput<typeof SelfUpdateFrame>;

/** What a SelfUpdater needs from the agent that runs it. */
export interface SelfUpdaterOptions {
  stateDir: string;
  /** The running bundle file; null when not running from one (updates are then refused). */
  bundle: string | null;
  version: string;
  settings: SelfUpdateSettings;
  log: Logger;
  /** Sends a frame now if connected. */
  send(frame: OutgoingFrame): boolean;
  /** Stops the agent and leaves it to main() to restart (AgentRuntime.stopped resolves EXIT_RESTART). */
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
    // Clipped to the protocol's limit: an over-long failure text must not make the heartbeat invalid.
    return [{ name: "self_update", ok: false, message: this.report.message.slice(0, CHECK_LIMITS.message) }];
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
    const refusal = releaseRefusal(frame, version);
    if (refusal) {
      await this.fail(marker, refusal);
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
