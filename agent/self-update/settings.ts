// Self-update settings read from the environment at boot, and how this agent gets restarted.
import { ConfigError } from "../config";

/** Exit code asking the supervisor (systemd, `Restart=always`) to start the agent again. */
export const EXIT_RESTART = 75;

/** Self-update timings, from `selfUpdateSettings`. */
export interface SelfUpdateSettings {
  /** How long a new version has to reconnect before it is rolled back. */
  timeoutMs: number;
  /** How long a failure is reported as a failing `self_update` check. */
  reportMs: number;
}

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
