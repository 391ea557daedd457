import type * as v from "valibot";
import { splitText } from "../../src/protocol/inventory-chunks";
import type { InventoryAckFrame, InventoryRequestFrame } from "../../src/protocol/inventory-frames";
import {
  INVENTORY_SECTIONS,
  type InventorySection,
  USER_SECTIONS,
} from "../../src/protocol/inventory-sections";
import type { OutgoingFrame } from "../connection";
import { type Cancel, type Clock, systemClock } from "../interval";
import type { Logger } from "../log";
import { type CollectedSection, type CollectOptions, collectSection, unavailable } from "./collectors";

/** The host owner's inventory settings (agent configuration; the server cannot change them). */
export interface InventorySettings {
  /** Seconds between periodic collections (each one jittered by ±10 %). */
  intervalSeconds: number;
  /** False: `users` and `groups` are never collected (OUTPOST_INVENTORY_USERS=false). */
  includeUsers: boolean;
}

export interface InventoryReporterOptions {
  send(frame: OutgoingFrame): boolean;
  log: Logger;
  settings: InventorySettings;
  clock?: Clock;
  /** The collector (tests replace it); defaults to the real one. */
  collect?: (section: InventorySection, options: CollectOptions) => Promise<CollectedSection>;
}

interface Run {
  sections: InventorySection[];
  /** Send every section, changed or not (an operator asked). */
  force: boolean;
  requestId?: string;
  refreshCache: boolean;
}

const USERS_OFF = "turned off on this host (OUTPOST_INVENTORY_USERS=false)";

/** Largest `data` sent in one `inventory` frame: a Workers WebSocket message is at most 1 MiB, and the frame needs room. */
export const INLINE_SECTION_BYTES = 900 * 1024;

/**
 * Keeps the server's copy of this host's inventory current: collects at the server's request (at
 * every hello, with the hashes it holds), every `intervalSeconds` and on an operator's refresh, and
 * sends only the sections whose hash the server does not have. Runs one at a time; requests that
 * arrive meanwhile are queued in order.
 */
export class InventoryReporter {
  /** Hashes the server has confirmed (from `known_hashes` and `inventory_ack`). */
  private readonly acknowledged = new Map<string, string>();
  private readonly queue: Run[] = [];
  private readonly clock: Clock;
  private running: Promise<void> | null = null;
  private cancelTimer: Cancel | undefined;
  private stopped = false;
  /** The server said (in its latest `inventory_request`) that it takes sections in slices. */
  private chunksAccepted = false;

  constructor(private readonly options: InventoryReporterOptions) {
    this.clock = options.clock ?? systemClock;
  }

  /** Schedules the periodic collection; the first follows the server's request at hello. */
  start(): void {
    this.stopped = false;
    this.schedule();
  }

  /** No more collections; a run in progress finishes but sends nothing more after its current section. */
  stop(): void {
    this.stopped = true;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    this.queue.length = 0;
  }

  /** Settles once the queue is empty (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** The server's `inventory_request`. */
  request(frame: v.InferOutput<typeof InventoryRequestFrame>): void {
    this.chunksAccepted = frame.accepts_chunks === true;
    if (frame.known_hashes) {
      this.acknowledged.clear();
      for (const [section, hash] of Object.entries(frame.known_hashes)) this.acknowledged.set(section, hash);
    }
    const sections = frame.sections && frame.sections.length > 0 ? frame.sections : [...INVENTORY_SECTIONS];
    // With known_hashes the server wants what changed; without, it wants every asked section now.
    this.enqueue({
      sections,
      force: frame.known_hashes === undefined,
      requestId: frame.request_id,
      refreshCache: frame.refresh_cache,
    });
  }

  /** The server's `inventory_ack`: that content is stored. */
  acknowledge(frame: v.InferOutput<typeof InventoryAckFrame>): void {
    this.acknowledged.set(frame.section, frame.content_hash);
  }

  private schedule(): void {
    if (this.stopped) return;
    const base = this.options.settings.intervalSeconds * 1000;
    // ±10 %: a fleet that started together must not report together every hour.
    const delay = Math.round(base * (0.9 + Math.random() * 0.2));
    this.cancelTimer = this.clock.setTimeout(() => {
      this.enqueue({ sections: [...INVENTORY_SECTIONS], force: false, refreshCache: false });
      this.schedule();
    }, delay);
  }

  private enqueue(run: Run): void {
    if (this.stopped) return;
    this.queue.push(run);
    if (!this.running) {
      this.running = this.drain().finally(() => {
        this.running = null;
      });
    }
  }

  private async drain(): Promise<void> {
    for (let run = this.queue.shift(); run; run = this.queue.shift()) {
      try {
        await this.perform(run);
      } catch (error) {
        this.options.log.warn("inventory collection failed", { problem: (error as Error).message });
      }
    }
  }

  private async collect(section: InventorySection, run: Run): Promise<CollectedSection> {
    if (!this.options.settings.includeUsers && USER_SECTIONS.includes(section))
      return unavailable(section, USERS_OFF);
    const collect = this.options.collect ?? collectSection;
    return collect(section, { refreshCache: run.refreshCache && section === "updates" });
  }

  // Sections one after another: the agent's footprint matters more than a fast inventory.
  private async perform(run: Run): Promise<void> {
    let sent = 0;
    for (const section of run.sections) {
      if (this.stopped) return;
      const report = await this.collect(section, run);
      if (!run.force && this.acknowledged.get(section) === report.content_hash) continue;
      if (this.report(report, run.requestId)) sent++;
    }
    if (sent > 0) this.options.log.info("inventory reported", { sections: sent, request_id: run.requestId });
  }

  /**
   * Sends one section: in one frame when it fits, in `inventory_chunk` slices when it does not and
   * the server takes them, otherwise as unavailable (an older server). True when every frame went out.
   */
  private report(collected: CollectedSection, requestId: string | undefined): boolean {
    const common = {
      section: collected.section,
      content_hash: collected.content_hash,
      collected_at: collected.collected_at,
      ...(requestId ? { request_id: requestId } : {}),
    };
    const text = collected.status === "ok" ? JSON.stringify(collected.data) : "";
    if (collected.status === "unavailable" || Buffer.byteLength(text) <= INLINE_SECTION_BYTES) {
      return this.options.send({
        type: "inventory",
        ...common,
        status: collected.status,
        ...(collected.status === "unavailable" ? { reason: collected.reason } : {}),
        data: collected.data,
      });
    }
    if (!this.chunksAccepted) {
      const reason = `larger than ${INLINE_SECTION_BYTES} bytes, and the server does not take sections in slices`;
      const fallback = unavailable(collected.section, reason, collected.collected_at);
      return this.report(fallback, requestId);
    }
    const slices = splitText(text);
    let all = true;
    for (const [index, data] of slices.entries()) {
      all =
        this.options.send({ type: "inventory_chunk", ...common, index, count: slices.length, data }) && all;
    }
    return all;
  }
}
