import type { Connection } from "partyserver";
import { loadConfig } from "../../src/config";
import type { Logger } from "../../src/log";
import type { NodeStatus } from "../../src/nodes/status";
import { evaluateUnreachable } from "./alerts";
import { heardAt } from "./attachment";
import { deliverExecutions } from "./delivery";
import type { FrameSession } from "./frames";
import { orchestrationDue, tickOrchestrations } from "./orchestrations";
import { readPresence, staleWindowMs } from "./presence";

/** The staleness check's (or a pending alert's) next time, which the shared alarm folds in. */
const ALARM_BASE_KEY = "alarm_base";

/** What the alarm needs from its NodeSession. */
export interface AlarmSession {
  /**
   * The session as frame handling sees it: its store, rules, database and node id. Asked for when
   * needed, not up front: a woken object's store counts the samples held in its attachment, and the
   * alarm writes those first.
   */
  frames(): FrameSession;
  setAlarm(at: number): Promise<void>;
  liveConnection(): Connection | undefined;
  /** Writes the samples the connections hold, so presence reads them from storage. */
  flushSamples(): void;
  /** Runs a task in order with frame handling. */
  enqueue(task: () => Promise<void>): Promise<void>;
  /** Applies a status the node's own evidence implies (`presence.observe` for this node). */
  observe(status: NodeStatus, reason: string, seen: boolean): Promise<void>;
  log(): Logger;
}

/**
 * The session's one Durable Object alarm, which serves three things: the staleness check (no
 * heartbeat within the stale window → `unreachable`), `node_unreachable` alert rules whose `for`
 * is pending, and the next step of an orchestrated reboot. The check's own next time is kept in
 * the store (`alarm_base`); the alarm is set to the earlier of it and the orchestration's.
 */
export class SessionAlarm {
  constructor(private readonly session: AlarmSession) {}

  /** Sets the staleness check to the end of the current stale window. */
  async arm(): Promise<void> {
    const presence = readPresence(this.session.frames().store);
    await this.set(presence.lastHeartbeatAt + this.#staleWindow(presence));
  }

  /**
   * Remembers `at` (when given) as the check's next time, and sets the alarm to the earlier of it and
   * the next orchestration step.
   */
  async set(at: number | null): Promise<void> {
    const { store } = this.session.frames();
    if (at !== null) store.set(ALARM_BASE_KEY, at);
    const base = store.get<number | null>(ALARM_BASE_KEY) ?? null;
    const due = orchestrationDue(store);
    const next = base === null ? due : due === null ? base : Math.min(base, due);
    if (next !== null) await this.session.setAlarm(next);
  }

  /**
   * The alarm fired: orchestrated reboots move on when due; then, when it is its time, the staleness
   * check: no heartbeat within the window → unreachable; otherwise check again later.
   */
  async run(): Promise<void> {
    this.session.flushSamples();
    const frames = this.session.frames();
    const { store } = frames;
    const due = orchestrationDue(store);
    const orchestrating = due !== null && due <= Date.now();
    if (orchestrating)
      await this.session.enqueue(() =>
        tickOrchestrations(
          store,
          { db: frames.db(), nodeId: frames.nodeId, deliver: () => this.#deliverPending() },
          this.session.log(),
        ),
      );
    const base = store.get<number | null>(ALARM_BASE_KEY);
    // Early for the orchestration: the check keeps its own time (none stored: an alarm from before).
    if (orchestrating && (base === null || (base !== undefined && base > Date.now()))) return this.set(null);
    store.set(ALARM_BASE_KEY, null);
    const presence = readPresence(store);
    // Heard by an evicted instance whose held samples are gone: the attachment still knows when.
    presence.lastHeartbeatAt = Math.max(presence.lastHeartbeatAt, heardAt(this.session.liveConnection()));
    if (presence.status === "unreachable") {
      await this.alertUnreachable();
      return this.set(null);
    }
    const deadline = presence.lastHeartbeatAt + this.#staleWindow(presence);
    if (Date.now() >= deadline) {
      await this.session.observe("unreachable", "no heartbeat within the stale window", false);
      await this.alertUnreachable();
      return this.set(null);
    }
    await this.set(deadline);
  }

  /** `node_unreachable` rules see the agent gone; a pending `for` is looked at again by the alarm. */
  async alertUnreachable(): Promise<void> {
    try {
      const due = await evaluateUnreachable(this.session.frames(), Date.now());
      if (due !== null) await this.set(due);
    } catch (error) {
      // Retried by the next alarm or disconnect; the status change itself went through.
      this.session.log().error("alert evaluation failed", { error });
    }
  }

  #staleWindow(presence: ReturnType<typeof readPresence>): number {
    return staleWindowMs(presence, loadConfig(this.session.frames().env).heartbeatStaleFactor);
  }

  /** Claims and sends the node's pending executions when its agent is connected (already in the queue). */
  async #deliverPending(): Promise<void> {
    const conn = this.session.liveConnection();
    const frames = this.session.frames();
    if (conn) await deliverExecutions(frames.db(), frames.nodeId, conn, { resend: false });
  }
}
