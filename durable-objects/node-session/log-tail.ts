import type { Connection } from "partyserver";
import type { StreamParams } from "../../src/protocol/reach-methods";
import type { AgentStreams, StreamHandle } from "./streams";

/**
 * Lines per second one subscriber receives; past it lines are counted and reported as `dropped`.
 * Above the 1,000 lines/s a tail must carry whole (issue 20), with room for bursts.
 */
export const LOG_LINES_PER_SECOND = 2000;
const KEEPALIVE_MS = 15_000;
const CREDITS = 16;

const encoder = new TextEncoder();

interface Subscriber {
  controller: ReadableStreamDefaultController<Uint8Array>;
  tokens: number;
  refilledAt: number;
  dropped: number;
  close(): void;
}

interface Tail {
  handle: StreamHandle;
  subscribers: Set<Subscriber>;
}

function event(name: string, data: unknown, id?: string): Uint8Array {
  return encoder.encode(`event: ${name}\n${id ? `id: ${id}\n` : ""}data: ${JSON.stringify(data)}\n\n`);
}

function quietly(action: () => void): void {
  try {
    action();
  } catch {
    // the subscriber went away
  }
}

/**
 * A node's live log tails as Server-Sent Events. Subscribers with the same filters (and no resume
 * point) share one agent stream; the last one leaving stops it. Each subscriber gets at most
 * `LOG_LINES_PER_SECOND` lines, then `event: dropped {count}`.
 */
export class LogTails {
  readonly #tails = new Map<string, Tail>();

  constructor(private readonly streams: AgentStreams) {}

  get size(): number {
    return this.#tails.size;
  }

  /** Open subscriber streams, over all tails. */
  get subscribers(): number {
    let count = 0;
    for (const tail of this.#tails.values()) count += tail.subscribers.size;
    return count;
  }

  subscribe(
    conn: Connection,
    params: StreamParams<"logs.tail">,
    nodeId: string,
    lifetimeMs: number,
  ): Response {
    // A resumed tail starts from its own point, so it cannot join a shared one.
    const key = params.resume ? `resume:${crypto.randomUUID()}` : JSON.stringify(params);
    let subscriber: Subscriber | undefined;
    const body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        const keepalive = setInterval(
          () => quietly(() => controller.enqueue(encoder.encode(": keepalive\n\n"))),
          KEEPALIVE_MS,
        );
        const lifetime = setTimeout(() => {
          quietly(() => controller.enqueue(event("end", { reason: "lifetime" })));
          sub.close();
          quietly(() => controller.close());
        }, lifetimeMs);
        const sub: Subscriber = {
          controller,
          tokens: LOG_LINES_PER_SECOND,
          refilledAt: Date.now(),
          dropped: 0,
          close: () => {
            clearInterval(keepalive);
            clearTimeout(lifetime);
            this.#leave(key, sub);
          },
        };
        subscriber = sub;
        this.#join(conn, key, params, nodeId, sub);
      },
      cancel: () => subscriber?.close(),
    });
    return new Response(body, {
      headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" },
    });
  }

  #join(conn: Connection, key: string, params: StreamParams<"logs.tail">, nodeId: string, sub: Subscriber) {
    const existing = this.#tails.get(key);
    if (existing) {
      existing.subscribers.add(sub);
      return;
    }
    const subscribers = new Set<Subscriber>([sub]);
    const handle = this.streams.open(conn, "logs.tail", params, CREDITS, {
      data: (items) => {
        for (const s of subscribers) deliver(s, items, nodeId);
        handle.grant(1);
      },
      end: (reason, error) => {
        this.#tails.delete(key);
        for (const s of subscribers) {
          quietly(() => s.controller.enqueue(event("end", { reason, ...(error ? { error } : {}) })));
          s.close();
          quietly(() => s.controller.close());
        }
      },
    });
    this.#tails.set(key, { handle, subscribers });
  }

  #leave(key: string, sub: Subscriber) {
    const tail = this.#tails.get(key);
    if (!tail?.subscribers.delete(sub)) return;
    if (tail.subscribers.size === 0) {
      this.#tails.delete(key);
      tail.handle.stop();
    }
  }
}

function deliver(sub: Subscriber, items: unknown[], nodeId: string): void {
  const now = Date.now();
  sub.tokens = Math.min(
    LOG_LINES_PER_SECOND,
    sub.tokens + ((now - sub.refilledAt) / 1000) * LOG_LINES_PER_SECOND,
  );
  sub.refilledAt = now;
  for (const item of items) {
    if (sub.tokens < 1) {
      sub.dropped++;
      continue;
    }
    if (sub.dropped > 0) {
      quietly(() => sub.controller.enqueue(event("dropped", { count: sub.dropped })));
      sub.dropped = 0;
    }
    sub.tokens--;
    const entry = item as { id?: string };
    quietly(() => sub.controller.enqueue(event("log", { ...entry, node_id: nodeId }, entry.id)));
  }
  if (sub.dropped > 0 && sub.tokens >= 1) {
    quietly(() => sub.controller.enqueue(event("dropped", { count: sub.dropped })));
    sub.dropped = 0;
  }
}
