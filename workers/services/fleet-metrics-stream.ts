import { metricsStreamRequest } from "../../durable-objects/node-session/requests";
import type { Env } from "../../src/config";
import { nodeSession } from "./node-sessions";

const KEEPALIVE_MS = 10_000;
const encoder = new TextEncoder();

type Followed = { id: string; clusterName: string; status: string };

// The `event:` and `data:` of each whole SSE message in `buffer`; the unfinished tail is returned.
function messages(buffer: string): { parsed: { event: string; data: string }[]; rest: string } {
  const parts = buffer.split("\n\n");
  const rest = parts.pop() ?? "";
  const parsed = parts.flatMap((part) => {
    let event = "message";
    const data: string[] = [];
    for (const line of part.split("\n")) {
      if (line.startsWith("event:")) event = line.slice(6).trim();
      else if (line.startsWith("data:")) data.push(line.slice(5).trimStart());
    }
    return data.length > 0 ? [{ event, data: data.join("\n") }] : [];
  });
  return { parsed, rest };
}

/**
 * Several nodes' live metrics merged into one Server-Sent Events stream: each node's session
 * stream (the agent samples fast only while it is open) is read here and its `status` and
 * `metrics` events re-sent with `node_id` in the data. A node whose agent is offline gets one
 * `status` event; the stream ends (`end`) when every node's stream has ended, and closing it
 * closes every node's stream.
 */
export function fleetMetricsStream(env: Env, followed: Followed[], interval: number): Response {
  let id = 0;
  const upstreams: ReadableStreamDefaultReader<Uint8Array>[] = [];
  let timer: ReturnType<typeof setInterval> | undefined;
  const body = new ReadableStream<Uint8Array>({
    async start(controller) {
      let open = true;
      const send = (event: string, data: unknown) => {
        if (!open) return;
        id++;
        controller.enqueue(encoder.encode(`id: ${id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`));
      };
      send("nodes", { node_ids: followed.map((n) => n.id), interval_seconds: interval });
      timer = setInterval(() => open && controller.enqueue(encoder.encode(": keepalive\n\n")), KEEPALIVE_MS);
      const follow = async (node: Followed) => {
        const res = await nodeSession(env, node.id)
          .fetch(metricsStreamRequest(interval, node.clusterName))
          .catch(() => null);
        const stream = res?.status === 200 ? res.body : null;
        if (!stream) {
          await res?.body?.cancel();
          send("status", { node_id: node.id, connected: false, status: node.status });
          return;
        }
        const reader = stream.getReader();
        upstreams.push(reader);
        const decoder = new TextDecoder();
        let buffer = "";
        for (;;) {
          const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
          if (done) return;
          buffer += decoder.decode(value, { stream: true });
          const { parsed, rest } = messages(buffer);
          buffer = rest;
          for (const m of parsed) {
            if (m.event !== "metrics" && m.event !== "status") continue;
            send(m.event, { node_id: node.id, ...(JSON.parse(m.data) as Record<string, unknown>) });
          }
        }
      };
      await Promise.all(followed.map(follow));
      send("end", { reason: "streams_ended" });
      open = false;
      clearInterval(timer);
      controller.close();
    },
    cancel() {
      clearInterval(timer);
      for (const reader of upstreams) void reader.cancel().catch(() => undefined);
    },
  });
  return new Response(body, {
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-transform",
      "x-accel-buffering": "no",
    },
  });
}
