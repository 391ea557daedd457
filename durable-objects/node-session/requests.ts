/**
 * The two HTTP requests the Worker still sends a NodeSession (everything else is RPC): the agent's
 * WebSocket upgrade and an execution's live-output stream. Built here so the Worker never forwards
 * what a client sent: the object sees only what it reads.
 */

/** Header naming the node the Worker authenticated; the session refuses an upgrade for another node. */
export const NODE_ID_HEADER = "x-outpost-node-id";

// The object is reached through its stub, never by URL; the origin only makes the URL valid.
const ORIGIN = "https://node-session";
const STREAM_PATH = /^\/stream\/([^/]+)$/;

/** The WebSocket upgrade for `nodeId`'s session: the upgrade header and the node id, nothing else. */
export function upgradeRequest(nodeId: string): Request {
  return new Request(`${ORIGIN}/connect`, {
    method: "GET",
    headers: { upgrade: "websocket", [NODE_ID_HEADER]: nodeId },
  });
}

/** The Server-Sent-Events stream of one execution's live output. */
export function streamRequest(executionId: string, lastEventId?: string): Request {
  return new Request(`${ORIGIN}/stream/${encodeURIComponent(executionId)}`, {
    headers: lastEventId ? { "last-event-id": lastEventId } : {},
  });
}

const METRICS_PATH = "/metrics-stream";

/** The live metrics stream of the node (`interval` seconds; the cluster name labels each snapshot). */
export function metricsStreamRequest(intervalSeconds: number, clusterName: string): Request {
  const url = new URL(`${ORIGIN}${METRICS_PATH}`);
  url.searchParams.set("interval", String(intervalSeconds));
  url.searchParams.set("cluster", clusterName);
  return new Request(url);
}

/** What a metrics stream request asks for; null for any other request. */
export function streamedMetrics(request: Request): { interval: number; clusterName: string } | null {
  const url = new URL(request.url);
  if (request.method !== "GET" || url.pathname !== METRICS_PATH) return null;
  const interval = Number(url.searchParams.get("interval"));
  if (!Number.isInteger(interval) || interval < 1) return null;
  return { interval, clusterName: url.searchParams.get("cluster") ?? "" };
}

/** The execution a stream request asks for; null for any other request. */
export function streamedExecution(request: Request): string | null {
  if (request.method !== "GET") return null;
  const match = STREAM_PATH.exec(new URL(request.url).pathname);
  return match ? decodeURIComponent(match[1]) : null;
}
