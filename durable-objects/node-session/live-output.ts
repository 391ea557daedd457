/** Bytes of live output kept per running execution for late subscribers (the stored result is complete anyway). */
const REPLAY_LIMIT = 256 * 1024;
const KEEPALIVE_MS = 10_000;

export interface FinalState {
  status: string;
  exit_code: number | null;
}

interface Subscriber {
  controller: ReadableStreamDefaultController<Uint8Array>;
  timer: ReturnType<typeof setInterval>;
  /** Closes the stream at the end of its lifetime. */
  deadline: ReturnType<typeof setTimeout>;
}

/** Bounds on a node's live-output streams (`STREAM_MAX_SUBSCRIBERS_PER_NODE`, `STREAM_MAX_LIFETIME_SECONDS`). */
export interface StreamLimits {
  maxSubscribers: number;
  maxLifetimeMs: number;
}

interface LiveExecution {
  /** Buffered chunks with their sequence numbers (1 for the first chunk ever pushed). */
  chunks: { seq: number; chunk: string }[];
  /** Chunks pushed so far: the next one's `id:` is this plus one. */
  pushed: number;
  bytes: number;
  subscribers: Set<Subscriber>;
}

const encoder = new TextEncoder();

function sse(event: string, data: unknown, id?: number): Uint8Array {
  return encoder.encode(
    `${id === undefined ? "" : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`,
  );
}

function quietly(action: () => void): void {
  try {
    action();
  } catch {
    // the subscriber went away
  }
}

/**
 * Live output of a node's running executions, fanned out to Server-Sent-Event
 * subscribers. In memory only: a subscriber that arrives after the object was
 * evicted still gets the final state when the execution ends.
 */
export class LiveOutput {
  #live = new Map<string, LiveExecution>();

  /** Executions with buffered output or subscribers (what this object holds in memory). */
  get size(): number {
    return this.#live.size;
  }

  /** Open streams, over all executions. */
  get subscribers(): number {
    let count = 0;
    for (const entry of this.#live.values()) count += entry.subscribers.size;
    return count;
  }

  #entry(executionId: string): LiveExecution {
    let entry = this.#live.get(executionId);
    if (!entry) {
      entry = { chunks: [], pushed: 0, bytes: 0, subscribers: new Set() };
      this.#live.set(executionId, entry);
    }
    return entry;
  }

  /** A chunk from the agent: kept for replay (bounded) and pushed to every subscriber. */
  push(executionId: string, chunk: string): void {
    const entry = this.#entry(executionId);
    const seq = ++entry.pushed;
    entry.chunks.push({ seq, chunk });
    entry.bytes += chunk.length;
    while (entry.bytes > REPLAY_LIMIT && entry.chunks.length > 1)
      entry.bytes -= entry.chunks.shift()?.chunk.length ?? 0;
    for (const sub of entry.subscribers) quietly(() => sub.controller.enqueue(sse("output", { chunk }, seq)));
  }

  /** The execution ended: subscribers get `end` with the final state and are closed. */
  finish(executionId: string, final: FinalState): void {
    const entry = this.#live.get(executionId);
    if (!entry) return;
    this.#live.delete(executionId);
    for (const sub of entry.subscribers) {
      clearInterval(sub.timer);
      clearTimeout(sub.deadline);
      quietly(() => sub.controller.enqueue(sse("end", final)));
      quietly(() => sub.controller.close());
    }
  }

  /**
   * An SSE response for one execution: buffered chunks first, then live ones,
   * until `finish`. Each `output` event has an `id:` (its chunk's sequence number); `after` (the
   * client's `Last-Event-ID`) skips the chunks it already has. `poll` is asked on every keepalive whether the execution
   * ended elsewhere (cancelled while pending, expired) so no stream hangs. Past `limits.maxSubscribers`
   * open streams the answer is 503; a stream is closed after `limits.maxLifetimeMs` (the client may
   * open a new one), so a stream for an execution that never ends does not stay open forever.
   */
  subscribe(
    executionId: string,
    poll: () => Promise<FinalState | null>,
    limits: StreamLimits,
    after = 0,
  ): Response {
    if (this.subscribers >= limits.maxSubscribers)
      return new Response("too many live-output streams for this node", { status: 503 });
    let subscriber: Subscriber | undefined;
    const drop = () => {
      if (!subscriber) return;
      clearInterval(subscriber.timer);
      clearTimeout(subscriber.deadline);
      const entry = this.#live.get(executionId);
      entry?.subscribers.delete(subscriber);
      // An entry kept only for this subscriber (no output arrived) is not kept past it.
      if (entry && entry.subscribers.size === 0 && entry.chunks.length === 0) this.#live.delete(executionId);
    };
    const stream = new ReadableStream<Uint8Array>({
      start: (controller) => {
        const entry = this.#entry(executionId);
        // Resumed (`Last-Event-ID`): only the chunks after the last one the client saw.
        for (const { seq, chunk } of entry.chunks)
          if (seq > after) controller.enqueue(sse("output", { chunk }, seq));
        const timer = setInterval(async () => {
          quietly(() => controller.enqueue(encoder.encode(": keepalive\n\n")));
          const ended = await poll().catch(() => null);
          if (ended) this.finish(executionId, ended);
        }, KEEPALIVE_MS);
        const deadline = setTimeout(() => {
          drop();
          quietly(() => controller.close());
        }, limits.maxLifetimeMs);
        subscriber = { controller, timer, deadline };
        entry.subscribers.add(subscriber);
      },
      cancel: drop,
    });
    return new Response(stream, {
      headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" },
    });
  }
}
