import type { Connection } from "partyserver";
import { heartbeatAlertValues } from "../../src/alert-rules/metrics";
import { type Env, loadConfig } from "../../src/config";
import type { Database } from "../../src/db/client";
import { capOutput } from "../../src/executions/lifecycle";
import type { Logger } from "../../src/log";
import { seriesValues } from "../../src/metrics-history/buckets";
import type { NodeStatus } from "../../src/nodes/status";
import { type AgentFrame, CLOSE_CODES, encodeServerFrame, type HostMetrics } from "../../src/protocol/frames";
import {
  METRICS_STREAM_CAPABILITY,
  type SystemDetail,
  type SystemMetrics,
} from "../../src/protocol/system-metrics";
import { writeResult } from "../batch-writer";
import { configFrame } from "./agent-config";
import { evaluateAlerts, type RulesClock } from "./alerts";
import { resendLive } from "./delivery";
import type { AgentUploads } from "./file-upload";
import { receiveInventory, receiveInventoryChunk, syncInventoryOnHello } from "./inventory";
import type { InventoryChunks } from "./inventory-chunks";
import type { LiveOutput } from "./live-output";
import type { OutputGate } from "./output-gate";
import { readPresence, recordHello } from "./presence";
import { advanceAfterReboot, advanceAfterResult, advanceSelfUpdatesAfterHello } from "./rollout";
import { CAPABILITIES_KEY, type PendingRpcs } from "./rpc";
import type { BufferedSample } from "./sample-buffer";
import type { SessionStore } from "./store";
import type { AgentStreams } from "./streams";
import { storedUpdatesAlertValues } from "./updates-alerts";
import type { ExecutionWaiters } from "./waiters";

/** What frame handling needs from its NodeSession. */
export interface FrameSession {
  readonly nodeId: string;
  readonly env: Env;
  readonly store: SessionStore;
  /** Slices of inventory sections too large for one frame, until each section is whole. */
  readonly inventoryChunks: InventoryChunks;
  readonly liveOutput: LiveOutput;
  /** Calls waiting for the agent's `rpc_result`, and open agent streams (processes, logs, files). */
  readonly rpcs: PendingRpcs;
  readonly streams: AgentStreams;
  /** Uploads in flight: the agent grants their credits and may end them. */
  readonly uploads: AgentUploads;
  readonly outputGate: OutputGate;
  /** Synchronous commands waiting for results of this node (`NodeSession.pushAndAwait`). */
  readonly waiters: ExecutionWaiters;
  /** When the cached alert rules are next fetched (`./alerts`). */
  readonly rulesClock: RulesClock;
  readonly log: Logger;
  db(): Database;
  /** Runs a repeatable libSQL write, trying it again on transient errors (`retryTransient`). */
  write<T>(write: () => Promise<T>): Promise<T>;
  /** Applies a status the node's own evidence implies (`presence.observe` for this node). */
  observe(status: NodeStatus, reason: string, seen: boolean | "sampled"): Promise<void>;
  /** Arms the staleness alarm from the current presence. */
  armAlarm(): Promise<void>;
  /** A fuller snapshot arrived: passed to live metrics streams (`keep`: a heartbeat's, stored with its sample). */
  publishSystem(at: number, host: HostMetrics, system: SystemMetrics | undefined, keep: boolean): void;
  /** Keeps a heartbeat's sample (buffered with others, `./sample-buffer`). */
  recordSample(connection: Connection, entry: BufferedSample): void;
  /** The detail sections arrived: kept as the node's latest. */
  publishDetail(detail: SystemDetail): void;
  /** The agent said hello: live metrics streams hear it, and a stream still open is started again. */
  agentReady(connection: Connection): void;
  /** Lets work finish after the frame is handled (a rollout's next step). */
  background(task: Promise<unknown>): void;
}

/** What a connection remembers across hibernation (partyserver keeps it in the socket's attachment). */
interface ConnectionState {
  hello?: boolean;
  /** The agent announced `metrics_stream.v1`. */
  metricsStream?: boolean;
}

/** Whether the agent on `connection` answers `metrics_stream` frames. */
export function streamsMetrics(connection: Connection): boolean {
  return (connection.state as ConnectionState | null)?.metricsStream === true;
}

/** Whether the agent on `connection` has said hello (its capabilities are stored). */
export function helloReceived(connection: Connection): boolean {
  return (connection.state as ConnectionState | null)?.hello === true;
}

/**
 * Handles one valid frame from the node's agent. Every type of the agent catalog has a case: a
 * type added to `AgentFrame` fails to compile here until it is handled.
 */
export async function handleAgentFrame(
  session: FrameSession,
  connection: Connection,
  frame: AgentFrame,
): Promise<void> {
  switch (frame.type) {
    case "hello": {
      // One hello per connection: each is a batch of writes and events, so a repeat is refused.
      if (helloReceived(connection)) {
        session.log.warn("repeated hello on one connection refused");
        connection.send(
          encodeServerFrame({
            type: "error",
            code: "invalid_frame",
            message: "hello was already received on this connection",
          }),
        );
        return;
      }
      const db = session.db();
      const facts = await session.write(() =>
        recordHello(db, session.nodeId, {
          version: frame.agent_version,
          hostname: frame.hostname,
          platform: frame.platform,
          arch: frame.arch,
          os_version: frame.os_version,
          kernel: frame.kernel,
          primary_ip: frame.primary_ip,
          boot_id: frame.boot_id,
        }),
      );
      if (!facts) {
        connection.close(CLOSE_CODES.nodeDeleted, "node deleted");
        return;
      }
      const now = Date.now();
      const presence = readPresence(session.store);
      session.store.set("presence", {
        ...presence,
        heartbeatIntervalSeconds: frame.heartbeat_interval_seconds,
        status: "healthy",
        lastHeartbeatAt: now,
        // last_seen_at was written with the status change; otherwise the next heartbeat refreshes it when due.
        lastSeenWrittenAt: facts.statusChanged ? now : presence.lastSeenWrittenAt,
      });
      const metricsStream = frame.capabilities.includes(METRICS_STREAM_CAPABILITY);
      connection.setState({ ...connection.state, hello: true, metricsStream } satisfies ConnectionState);
      session.store.set(CAPABILITIES_KEY, frame.capabilities);
      connection.send(
        encodeServerFrame(
          configFrame(
            loadConfig(session.env),
            session.nodeId,
            facts,
            frame.heartbeat_interval_seconds,
            metricsStream,
          ),
        ),
      );
      session.agentReady(connection);
      if (facts.updatedRollouts.length > 0)
        session.background(advanceSelfUpdatesAfterHello(session.env, db, facts.updatedRollouts, session.log));
      if (facts.rebootedCommands.length > 0)
        session.background(advanceAfterReboot(session.env, db, facts.rebootedCommands, session.log));
      await session.armAlarm();
      await resendLive(db, session.nodeId, connection, facts.live);
      await syncInventoryOnHello(db, session.store, session.nodeId, connection, frame.capabilities);
      return;
    }
    case "rpc_result":
      if (!session.rpcs.settle(frame))
        session.log.warn("an rpc answer arrived after its deadline", { id: frame.id });
      return;
    case "stream_data":
      // Data for a stream already stopped is normal (frames in flight); the agent stops on stream_stop.
      session.streams.data(frame);
      return;
    case "stream_end":
      if (!session.streams.end(frame)) session.uploads.end(frame);
      return;
    case "stream_credit":
      // Credits for an upload that just finished are normal (granted as its last chunks landed).
      session.uploads.credit(frame);
      return;
    case "inventory":
      await receiveInventory(session.db(), session.store, session.nodeId, connection, frame);
      return;
    case "inventory_chunk":
      await receiveInventoryChunk(
        session.db(),
        session.store,
        session.inventoryChunks,
        session.nodeId,
        connection,
        frame,
      );
      return;
    case "output":
      if (await session.outputGate.allows(frame.execution_id))
        session.liveOutput.push(frame.execution_id, frame.chunk);
      else session.log.warn("live output for an execution not live on this node dropped");
      return;
    case "result": {
      // Through the shard's writer, which groups results arriving together into one libSQL write.
      const { outcome, rolloutAdvanced } = await session.write(() =>
        writeResult(session.env, session.db(), {
          nodeId: session.nodeId,
          executionId: frame.execution_id,
          exitCode: frame.exit_code,
          output: frame.output,
          startedAt: frame.started_at,
          finishedAt: frame.finished_at,
        }),
      );
      // Acked whether or not it changed the row: a duplicate or late result is settled either way.
      connection.send(encodeServerFrame({ type: "ack", execution_id: frame.execution_id }));
      // Written: a synchronous command waiting for it answers with what was stored, unread.
      session.waiters.settle(frame.execution_id, () =>
        outcome
          ? {
              id: frame.execution_id,
              status: outcome.status,
              exit_code: frame.exit_code,
              output: capOutput(frame.output),
              started_at: outcome.startedAt,
              duration_ms: outcome.durationMs,
            }
          : null,
      );
      if (outcome) {
        session.liveOutput.finish(frame.execution_id, { status: outcome.status, exit_code: frame.exit_code });
        // Only a rollout has a window to move on: a plain command's result costs no further write.
        // The result writer moves it on itself; only a result written directly is advanced here.
        if (outcome.rollout && !rolloutAdvanced)
          session.background(advanceAfterResult(session.env, session.db(), frame.execution_id, session.log));
      }
      session.outputGate.forget(frame.execution_id);
      return;
    }
    case "heartbeat": {
      const failing = frame.checks.filter((c) => !c.ok);
      // Samples are keyed by time and the object's clock moves in coarse steps: two heartbeats
      // handled in one step must not overwrite each other.
      const at = Math.max(Date.now(), session.store.latestSampleAt() + 1);
      const sample = { at, host: frame.host, agent: frame.agent, checks: frame.checks };
      session.recordSample(connection, {
        sample,
        system: frame.system,
        values: seriesValues(frame.host, frame.system),
      });
      session.publishSystem(at, frame.host, frame.system, true);
      const reason =
        failing.length > 0 ? `failing checks: ${failing.map((c) => c.name).join(", ")}` : "heartbeat";
      await session.observe(failing.length > 0 ? "unhealthy" : "healthy", reason, "sampled");
      // An alert write that fails is retried by the next heartbeat; the heartbeat itself went through.
      // The inventory's updates facts (kept by the session) are evaluated in the heartbeat's rhythm.
      const values = {
        ...heartbeatAlertValues(frame.host, frame.checks, frame.system),
        ...storedUpdatesAlertValues(session.store),
      };
      await evaluateAlerts(session, values, at).catch((error) =>
        session.log.error("alert evaluation failed", { error }),
      );
      return;
    }
    case "metrics":
      // A live stream's sample: passed on, not stored (heartbeats keep the history).
      session.publishSystem(Date.now(), frame.host, frame.system, false);
      return;
    case "metrics_detail":
      session.publishDetail(frame.detail);
      return;
    case "ack":
      // The agent journaled an exec before running it. The row is already `sent` and the agent's
      // journal keeps it from running twice, so there is nothing to record.
      return;
    case "error":
      session.log.warn("agent reported a frame error", { code: frame.code, error: frame.message });
      return;
    case "ping":
      connection.send(encodeServerFrame({ type: "pong", id: frame.id, sent_at: frame.sent_at }));
      return;
    case "token_stored":
      // The agent saved a rotated token; the connection log shows the rotation completed.
      session.store.log("token_stored", connection.id);
      return;
    case "pong":
      // The server sends no pings (the agent measures the round trip), so a pong answers nothing.
      return;
    default: {
      // A frame type added to the catalog fails to compile here until it has a case.
      const unhandled: never = frame;
      return unhandled;
    }
  }
}
