import { streamRequest } from "../../durable-objects/node-session/requests";
import type { ExecutionRow } from "../../src/command-executions/store";
import type { Env } from "../../src/config";
import { ApiError } from "../../src/errors";
import { nodeSession } from "./node-sessions";

const TERMINAL = ["completed", "cancelled", "expired"];

// A finished execution's stream: its stored output as one `output` event, then `end`.
function finishedStream(row: ExecutionRow): Response {
  const events = [
    ...(row.output ? [`event: output\ndata: ${JSON.stringify({ chunk: row.output })}\n\n`] : []),
    `event: end\ndata: ${JSON.stringify({ status: row.status, exit_code: row.exitCode })}\n\n`,
  ];
  return new Response(events.join(""), {
    headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" },
  });
}

/**
 * An execution's output as Server-Sent Events: at once from its row when it is finished (or its
 * node is gone), else live from its node's session, which holds the running output; a live
 * stream resumes after `lastEventId` (the chunk sequence number the client saw last).
 */
export async function executionStream(env: Env, row: ExecutionRow, lastEventId?: string): Promise<Response> {
  if (TERMINAL.includes(row.status) || !row.nodeId) return finishedStream(row);
  const res = await nodeSession(env, row.nodeId).fetch(streamRequest(row.id, lastEventId));
  // The session refuses a stream past STREAM_MAX_SUBSCRIBERS_PER_NODE; the client gets the envelope.
  if (res.status === 503)
    throw new ApiError("service_unavailable", "Too many live-output streams for this node; retry later");
  return res;
}
