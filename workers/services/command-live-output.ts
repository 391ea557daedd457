import { streamRequest } from "../../durable-objects/node-session/requests";
import type { Env } from "../../src/config";
import { nodeSession } from "./node-sessions";
import { sseMessages } from "./sse-messages";

/** A chunk of a running execution's output as its node's session fanned it out. */
export interface LiveChunk {
  /** The chunk's sequence number in the execution's live stream (1 for the first). */
  seq: number;
  chunk: string;
}

/** An open read of one execution's live output; `stop` ends it early. */
export interface LiveOutputRead {
  /** Settles when the session's stream ended (execution finished, lifetime over) or was stopped. */
  done: Promise<void>;
  stop(): void;
}

/**
 * Reads the live output of a running execution from its node's session (the same stream
 * `GET /api/v1/command_executions/{id}/stream` serves), handing each chunk after `after` to
 * `onChunk`. Null when the session refuses the stream (too many subscribers on the node): the
 * execution's output then arrives only with its final state.
 */
export async function readLiveOutput(
  env: Env,
  nodeId: string,
  executionId: string,
  after: number,
  onChunk: (chunk: LiveChunk) => void,
): Promise<LiveOutputRead | null> {
  const res = await nodeSession(env, nodeId)
    .fetch(streamRequest(executionId, after > 0 ? String(after) : undefined))
    .catch(() => null);
  if (!res?.body || res.status !== 200) {
    await res?.body?.cancel().catch(() => {});
    return null;
  }
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  const done = (async () => {
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      const { parsed, rest } = sseMessages(buffer);
      buffer = rest;
      for (const m of parsed) {
        if (m.event !== "output") continue;
        const seq = Number(m.id);
        const { chunk } = JSON.parse(m.data) as { chunk: string };
        if (Number.isInteger(seq) && seq > after) onChunk({ seq, chunk });
      }
    }
  })();
  return {
    done,
    stop: () => {
      reader.cancel().catch(() => {});
    },
  };
}
