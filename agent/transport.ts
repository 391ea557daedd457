// What the agent accepts from the network it talks over (review M2, L6): no plain http to a
// server that is not loopback unless the operator opts in, bounded WebSocket frames, and a
// heartbeat period the server cannot push out of range.
import { isLoopbackHostname } from "../src/protocol/loopback";

/** `OUTPOST_ALLOW_INSECURE_HTTP=1` accepts a plain http:// server that is not loopback. */
export const ALLOW_INSECURE_HTTP_ENV = "OUTPOST_ALLOW_INSECURE_HTTP";

/** The largest WebSocket message the agent reads (ws closes the socket with 1009 beyond it). */
export const MAX_WS_PAYLOAD_BYTES = 8 * 1024 * 1024;

/** The range a server-sent heartbeat interval is clamped to. */
export const SERVER_HEARTBEAT_SECONDS = { min: 5, max: 3600 } as const;

/**
 * Why the agent must not talk to `server`, or null when it may: https, or http to a loopback
 * host, or http anywhere when `allowInsecure` (OUTPOST_ALLOW_INSECURE_HTTP=1).
 * @example plainHttpProblem("http://outpost.example.com", false) // "refusing plain http:// server …"
 */
export function plainHttpProblem(server: string, allowInsecure: boolean): string | null {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    return `server ${JSON.stringify(server)} is not a URL`;
  }
  if (url.protocol === "https:") return null;
  if (url.protocol !== "http:") return `server ${url.origin} is not an http(s) URL`;
  if (allowInsecure || isLoopbackHostname(url.hostname)) return null;
  return (
    `refusing plain http:// server ${url.origin}: the enrollment key, the node token and every command ` +
    `would cross the network unencrypted. Use an https:// server, or set ${ALLOW_INSECURE_HTTP_ENV}=1 to accept that risk`
  );
}

/**
 * The heartbeat period to use when the server asks for `seconds`: within 5–3600 s, but never
 * below what the operator configured locally (`ownSeconds`) when that is already under 5.
 * Null when the value is not a positive number (ignored).
 * @example clampServerHeartbeat(1_000_000, 15) // 3600
 */
export function clampServerHeartbeat(seconds: number, ownSeconds: number): number | null {
  if (!Number.isFinite(seconds) || seconds <= 0) return null;
  const min = Math.min(SERVER_HEARTBEAT_SECONDS.min, ownSeconds);
  return Math.min(Math.max(seconds, min), SERVER_HEARTBEAT_SECONDS.max);
}
