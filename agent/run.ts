import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import type { ServerFrame } from "../src/protocol/frames";
import type { AgentConfig } from "./config";
import { ConfigError } from "./config";
import { AgentConnection } from "./connection";
import { Dispatcher } from "./dispatcher";
import { enroll } from "./enroll";
import { EXIT } from "./exit-codes";
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
import { agentMetrics, createCounters, createHostSampler, healthChecks } from "./metrics";
import {
  EXIT_RESTART,
  runningBundle,
  SelfUpdater,
  type SelfUpdateSettings,
  selfUpdateSettings,
} from "./self-update";
import { StatusFile } from "./status";
import { AGENT_VERSION } from "./version";

/** How often the agent measures its round trip to the server (`outpost-agent status`). */
const PING_EVERY_MS = 60_000;

/** Overall budget for a graceful stop: SIGKILL grace for commands (5 s) + drain + close. */
const SHUTDOWN_TIMEOUT_MS = 10_000;

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
  const identity = await enroll({ blob: config.enrollment, nodeId, idType: config.idType, log });
  await saveIdentity(config.stateDir, identity);
  return { identity, enrolled: true };
}

/**
 * `outpost-agent run`: enrol if needed, then stay connected — hello, heartbeats, commands —
 * until SIGTERM/SIGINT (exit 0), a deleted node (4) or a refused token (5).
 */
export async function runAgent(
  config: AgentConfig,
  log: Logger,
  selfUpdate: SelfUpdateSettings = selfUpdateSettings(process.env),
): Promise<number> {
  // Lock before enrolling: two agents on one state dir must not both spend a key use.
  await ensurePrivateDir(config.stateDir);
  const lock = await acquireLock(config.stateDir);
  let identity: Identity;
  try {
    identity = (await obtainIdentity(config, log)).identity;
  } catch (error) {
    await lock.release();
    throw error;
  }
  const journal = await Journal.open(config.stateDir, { log });
  const interrupted = await journal.recoverInterrupted();
  if (interrupted.length > 0) {
    log.warn("commands were running when the agent last stopped; reporting them as failed, not re-running", {
      count: interrupted.length,
    });
  }
  await journal.sweep();

  const counters = createCounters(config.stateDir);
  const sampler = createHostSampler();
  const status = new StatusFile(
    config.stateDir,
    {
      pid: process.pid,
      version: AGENT_VERSION,
      node_id: identity.node_id,
      cluster_name: identity.cluster_name,
      server: identity.server,
      connection: "connecting",
      connected_since: null,
      last_heartbeat_at: null,
      started_at: new Date().toISOString(),
    },
    (error) => log.warn("cannot write the status file", { problem: error.message }),
  );
  await status.update({});

  let connection: AgentConnection | undefined;
  const send = (frame: Parameters<AgentConnection["send"]>[0]) => connection?.send(frame) ?? false;
  const dispatcher = new Dispatcher({
    journal,
    send,
    log,
    counters,
    outputLimitBytes: config.outputLimitBytes,
  });

  // Set once the run loop below exists; a self-update asks it to stop with EXIT_RESTART.
  let stop: (code: number) => void = () => {};
  const updater = new SelfUpdater({
    stateDir: config.stateDir,
    bundle: runningBundle(),
    version: AGENT_VERSION,
    settings: selfUpdate,
    log,
    send,
    requestRestart: () => stop(EXIT_RESTART),
  });
  await updater.start();

  const heartbeat = async () => {
    if (!connection?.isOpen) return;
    const host = await sampler.sample();
    const sent = send({
      type: "heartbeat",
      host,
      agent: agentMetrics(counters),
      checks: [...healthChecks(host, config.diskCheckPercent), ...updater.checks()],
    });
    if (sent) void status.update({ last_heartbeat_at: new Date().toISOString() });
    // About once a minute, an application ping through the node's session: `status` shows its round trip.
    if (sent && Date.now() - lastPingAt >= PING_EVERY_MS) {
      lastPingAt = Date.now();
      send({ type: "ping", id: randomUUID(), sent_at: lastPingAt });
    }
    connection.probe();
  };
  let lastPingAt = 0;
  let heartbeatSeconds = config.heartbeatIntervalSeconds;
  const tick = () =>
    heartbeat().catch((error) => log.warn("heartbeat failed", { problem: (error as Error).message }));
  let heartbeatTimer = setInterval(tick, heartbeatSeconds * 1000);
  const sweepTimer = setInterval(
    () =>
      journal
        .sweep()
        .catch((error) => log.warn("journal sweep failed", { problem: (error as Error).message })),
    60_000,
  );

  const onConfig = async (frame: Extract<ServerFrame, { type: "config" }>) => {
    await updater.onServerAnswered();
    if (frame.node_id !== identity.node_id) {
      log.warn("server config names another node id", { ours: identity.node_id, theirs: frame.node_id });
    }
    if (frame.cluster_name !== identity.cluster_name) {
      identity = { ...identity, cluster_name: frame.cluster_name };
      await saveIdentity(config.stateDir, identity);
      void status.update({ cluster_name: frame.cluster_name });
      log.info("cluster changed", { cluster: frame.cluster_name });
    }
    // The server's stale window is computed from its interval; follow it.
    if (frame.heartbeat_interval_seconds > 0 && frame.heartbeat_interval_seconds !== heartbeatSeconds) {
      heartbeatSeconds = frame.heartbeat_interval_seconds;
      clearInterval(heartbeatTimer);
      heartbeatTimer = setInterval(tick, heartbeatSeconds * 1000);
      log.info("heartbeat interval set by the server", { seconds: heartbeatSeconds });
    }
  };

  const background = (what: string, work: Promise<unknown>) =>
    work.catch((error) => {
      counters.errors++;
      log.error(`${what} failed`, { problem: (error as Error).message });
    });

  const onFrame = (frame: ServerFrame) => {
    switch (frame.type) {
      case "exec":
        return background("exec", dispatcher.exec(frame));
      case "cancel":
        return background("cancel", dispatcher.cancel(frame));
      case "ack":
        return background("ack", dispatcher.acknowledged(frame.execution_id));
      case "config":
        return background("config", onConfig(frame));
      case "ping":
        send({ type: "pong", id: frame.id, sent_at: frame.sent_at });
        return;
      case "pong":
        void status.update({ server_rtt_ms: Math.max(0, Date.now() - frame.sent_at) });
        return;
      case "error":
        counters.errors++;
        log.warn("the server reported an error", { code: frame.code, message: frame.message });
        return;
      case "self_update":
        return background("self_update", updater.handle(frame));
    }
  };

  return new Promise<number>((resolve) => {
    let stopping = false;
    const shutdown = (code: number) => {
      if (stopping) return;
      stopping = true;
      if (code === EXIT_RESTART) log.info("stopping for a restart");
      const force = setTimeout(() => {
        log.error("graceful shutdown timed out; exiting anyway");
        resolve(code);
      }, SHUTDOWN_TIMEOUT_MS);
      (async () => {
        clearInterval(heartbeatTimer);
        clearInterval(sweepTimer);
        const running = dispatcher.runningIds.length;
        if (running > 0)
          log.warn("stopping running commands; they are reported as interrupted", { count: running });
        await dispatcher.stopAll();
        await connection?.close(1000, "agent shutting down");
        await status.update({ connection: "stopped", connected_since: null });
        await lock.release();
      })()
        .catch((error) => log.error("error during shutdown", { problem: (error as Error).message }))
        .finally(() => {
          clearTimeout(force);
          resolve(code);
        });
    };

    stop = shutdown;
    for (const signal of ["SIGTERM", "SIGINT"] as const) {
      process.on(signal, () => {
        if (stopping && signal === "SIGINT") process.exit(130); // a second Ctrl-C forces it
        log.info("shutting down", { signal });
        shutdown(EXIT.ok);
      });
    }

    log.info("starting", { version: AGENT_VERSION, node_id: identity.node_id, server: identity.server });
    connection = new AgentConnection({
      server: identity.server,
      token: identity.api_token,
      log,
      counters,
      onOpen: () => {
        send({
          type: "hello",
          agent_version: AGENT_VERSION,
          hostname: hostname(),
          platform: process.platform,
          arch: process.arch,
          capabilities: ["exec", "cancel", "output", "self_update"],
          heartbeat_interval_seconds: heartbeatSeconds,
        });
        void status.update({ connection: "connected", connected_since: new Date().toISOString() });
        updater.onConnected();
        background(
          "re-sending results",
          dispatcher.resendUnacknowledged().then((count) => {
            if (count > 0) log.info("re-sent unacknowledged results", { count });
          }),
        );
        void tick();
      },
      onFrame,
      onDisconnect: () => void status.update({ connection: "disconnected", connected_since: null }),
      onFatal: (reason, detail) => {
        if (reason === "node_deleted") {
          log.error("this node was deleted from Outpost; exiting", { detail });
          shutdown(EXIT.nodeDeleted);
        } else {
          log.error(
            `the server refused this node's API token (revoked?); exiting. To enrol again, remove ${identityPath(config.stateDir)} and start with a new ENROLLMENT_KEY`,
            { detail },
          );
          shutdown(EXIT.unauthorized);
        }
      },
    });
  });
}
