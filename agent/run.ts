// `outpost-agent run` and `enroll`: the steps before the agent runs (lock, identity, journal);
// the running agent itself is an AgentRuntime (./runtime.ts).
import type { AgentConfig } from "./config";
import { ConfigError } from "./config";
import { enroll } from "./enroll";
import { forgetEnrollmentKey } from "./env-file";
import { ensurePrivateDir } from "./files";
import {
  type Identity,
  identityPath,
  loadIdentity,
  persistentIdMismatch,
  resolveNodeId,
  saveIdentity,
} from "./identity";
import { Journal } from "./journal";
import { acquireLock } from "./lock";
import type { Logger } from "./log";
import { AgentRuntime, type RuntimeDeps } from "./runtime";
import { type SelfUpdateSettings, selfUpdateSettings } from "./self-update";
import { plainHttpProblem } from "./transport";

/**
 * The saved identity, or a new one from enrolling with ENROLLMENT_KEY. A saved identity
 * is always reused, so a restart never spends another key use.
 * @throws ConfigError (no identity and no key) | EnrollmentRefused | EnrollmentUnavailable
 */
export async function obtainIdentity(
  config: AgentConfig,
  log: Logger,
): Promise<{ identity: Identity; enrolled: boolean }> {
  await ensurePrivateDir(config.stateDir);
  const saved = await loadIdentity(config.stateDir);
  // An identity saved before the agent refused plain http (or with the opt-in since removed).
  const insecure = saved && plainHttpProblem(saved.server, config.allowInsecureHttp);
  if (insecure) throw new ConfigError(`${identityPath(config.stateDir)}: ${insecure}`);
  if (saved && config.reenroll && config.enrollment) return reenroll(config, saved, log);
  if (saved) {
    const derived = await persistentIdMismatch(saved, config.machineIdFile);
    if (derived) {
      log.warn("this machine's id differs from the enrolled one (cloned disk?); keeping the enrolled id", {
        enrolled: saved.node_id,
        derived,
      });
    }
    return { identity: saved, enrolled: false };
  }
  if (!config.enrollment) {
    throw new ConfigError(
      `ENROLLMENT_KEY is not set and this node is not enrolled yet (no ${identityPath(config.stateDir)})`,
    );
  }
  const nodeId = await resolveNodeId(config);
  log.info("enrolling", { server: config.enrollment.server, node_id: nodeId, id_type: config.idType });
  const identity = await enroll({
    blob: config.enrollment,
    nodeId,
    idType: config.idType,
    log,
    stateDir: config.stateDir,
  });
  await saveIdentity(config.stateDir, identity);
  await forgetKey(config, log);
  return { identity, enrolled: true };
}

/**
 * `enroll --reenroll`: the saved node enrols again under its own id, its saved token the proof the
 * server asks of a re-registration (review H1); a token an administrator revoked is accepted too.
 */
async function reenroll(
  config: AgentConfig,
  saved: Identity,
  log: Logger,
): Promise<{ identity: Identity; enrolled: boolean }> {
  const blob = config.enrollment;
  if (!blob) throw new ConfigError("--reenroll needs ENROLLMENT_KEY");
  log.info("enrolling again", { server: blob.server, node_id: saved.node_id });
  const identity = await enroll({
    blob,
    nodeId: saved.node_id,
    idType: saved.id_type,
    currentToken: saved.api_token,
    log,
    stateDir: config.stateDir,
  });
  await saveIdentity(config.stateDir, identity);
  await forgetKey(config, log);
  return { identity, enrolled: true };
}

async function forgetKey(config: AgentConfig, log: Logger): Promise<void> {
  if (config.envFile) {
    // Best effort: the node is enrolled either way; a key left behind is only logged.
    await forgetEnrollmentKey(config.envFile).then(
      (removed) =>
        removed && log.info("removed ENROLLMENT_KEY from the environment file", { path: config.envFile }),
      (error) =>
        log.warn("could not remove ENROLLMENT_KEY from the environment file", {
          problem: (error as Error).message,
        }),
    );
  }
}

/**
 * `outpost-agent run`: takes the state dir's lock, enrols if needed, recovers the journal, then
 * runs an AgentRuntime until it stops. Resolves with the exit code: 0 after SIGTERM/SIGINT,
 * 4 for a deleted node, 5 for a refused token, EXIT_RESTART after a self-update.
 * @throws ConfigError | EnrollmentRefused | EnrollmentUnavailable | AlreadyRunning
 */
export async function runAgent(
  config: AgentConfig,
  log: Logger,
  selfUpdate: SelfUpdateSettings = selfUpdateSettings(process.env),
  deps: RuntimeDeps = {},
): Promise<number> {
  // Lock before enrolling: two agents on one state dir must not both spend a key use.
  await ensurePrivateDir(config.stateDir);
  const lock = await acquireLock(config.stateDir);
  let runtime: AgentRuntime;
  try {
    const { identity } = await obtainIdentity(config, log);
    const journal = await openJournal(config.stateDir, log);
    runtime = new AgentRuntime({ config, log, selfUpdate, lock, identity, journal }, deps);
    await runtime.start();
  } catch (error) {
    await lock.release();
    throw error;
  }
  return runtime.stopped;
}

/** Opens the journal, reports commands a previous run left running (never re-run), sweeps old entries. */
async function openJournal(stateDir: string, log: Logger): Promise<Journal> {
  const journal = await Journal.open(stateDir, { log });
  const interrupted = await journal.recoverInterrupted();
  if (interrupted.length > 0) {
    log.warn("commands were running when the agent last stopped; reporting them as failed, not re-running", {
      count: interrupted.length,
    });
  }
  await journal.sweep();
  return journal;
}
