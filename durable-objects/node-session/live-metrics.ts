import type { SystemMetricsResponse } from "../../src/node-metrics/system-schema";

const KEEPALIVE_MS = 10_000;
/** A sample arriving this much before a subscriber's interval is due still goes out (timers drift). */
const SLACK_MS = 500;

interface Subscriber {
  controller: ReadableStreamDefaultController<Uint8Array>;
  intervalMs: number;
  lastSentAt: number;
  timer: ReturnType<typeof setInterval>;
  deadline: ReturnType<typeof setTimeout>;
}

/** What a stream tells its client about the agent's connection (`event: status`). */
export interface StreamStatus {
  connected: boolean;
  status: string;
}

const encoder = new TextEncoder();

function quietly(action: () => void): void {
  try {
    action();
  } catch {
    // the subscriber went away
  }
}

/**
 * The node's live metrics streams (`GET /api/v1/nodes/{node_id}/metrics/stream`), in memory: an
 * open SSE response keeps the object awake anyway. Each subscriber asks for an interval; the agent
 * is asked to sample at the shortest one (`onInterval`), and back to its heartbeat rhythm (`null`)
 * when the last subscriber leaves.
 */
export class LiveMetrics {
  readonly #subscribers = new Set<Subscriber>();
  #seq = 0;
  #interval: number | null = null;

  constructor(private readonly onInterval: (seconds: number | null) => void) {}

  get size(): number {
    return this.#subscribers.size;
  }

  /** The shortest interval any subscriber asked for, seconds; null without subscribers. */
  get interval(): number | null {
    return this.#interval;
  }

  #event(event: string, data: unknown): Uint8Array {
    this.#seq++;
    return encoder.encode(`id: ${this.#seq}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  #recompute(): void {
    let shortest: number | null = null;
    for (const s of this.#subscribers) shortest = Math.min(shortest ?? Infinity, s.intervalMs / 1000);
    if (shortest === this.#interval) return;
    this.#interval = shortest;
    this.onInterval(shortest);
  }

  /** A new snapshot (a heartbeat or a stream sample): sent to every subscriber whose interval is due. */
  publish(snapshot: SystemMetricsResponse, now = Date.now()): void {
    for (const s of this.#subscribers) {
      if (now - s.lastSentAt + SLACK_MS < s.intervalMs) continue;
      s.lastSentAt = now;
      const bytes = this.#event("metrics", snapshot);
      quietly(() => s.controller.enqueue(bytes));
    }
  }

  /** The agent connected or went away: every subscriber hears it. */
  status(status: StreamStatus): void {
    for (const s of this.#subscribers) {
      const bytes = this.#event("status", status);
      quietly(() => s.controller.enqueue(bytes));
    }
  }

  /**
   * An SSE response: `status` and the latest snapshot at once, then `metrics` every `intervalSeconds`
   * while samples arrive, `status` on connection changes, keepalive comments, and `end` when its
   * lifetime is over (the client may open a new one).
   */
  subscribe(
    intervalSeconds: number,
    initial: { status: StreamStatus; snapshot: SystemMetricsResponse | null },
    maxLifetimeMs: number,
  ): Response {
    let subscriber: Subscriber | undefined;
    const drop = () => {
      if (!subscriber || !this.#subscribers.delete(subscriber)) return;
      clearInterval(subscriber.timer);
      clearTimeout(subscriber.deadline);
      this.#recompute();
    };
    const stream = new ReadableStream<Uint8Array>({
      start: (controller) => {
        controller.enqueue(encoder.encode("retry: 5000\n\n"));
        controller.enqueue(this.#event("status", initial.status));
        if (initial.snapshot) controller.enqueue(this.#event("metrics", initial.snapshot));
        const timer = setInterval(
          () => quietly(() => controller.enqueue(encoder.encode(": keepalive\n\n"))),
          KEEPALIVE_MS,
        );
        const deadline = setTimeout(() => {
          quietly(() => controller.enqueue(this.#event("end", { reason: "max_lifetime" })));
          drop();
          quietly(() => controller.close());
        }, maxLifetimeMs);
        subscriber = {
          controller,
          intervalMs: intervalSeconds * 1000,
          // The stored snapshot sent above may be old: the first live sample goes out whenever it comes.
          lastSentAt: 0,
          timer,
          deadline,
        };
        this.#subscribers.add(subscriber);
        this.#recompute();
      },
      cancel: drop,
    });
    return new Response(stream, {
      headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" },
    });
  }
}
