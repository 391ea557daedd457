// The node page's "Now" line: the node's metrics stream (GET /nodes/{id}/metrics/stream, Server-Sent
// Events with a stream token) while the agent is connected, so the values move at the stream's
// interval; the latest stored sample (GET /nodes/{id}/metrics, every 15 s) while it is not (the stream
// answers 503) or once the stream has ended.
import { useEffect, useState } from "preact/hooks";
import { get, openStream } from "../api";
import { useInterval, useLoad } from "../hooks";

export interface NowMetrics {
  cpu: number | null;
  memory: number | null;
  disk: number | null;
  uptimeSeconds: number | null;
  /** True while the values come from the live stream. */
  live: boolean;
}

const POLL_MS = 15_000;
/** Seconds between the stream's samples (the route allows 1–60). */
const STREAM_INTERVAL_S = 5;

export function useNowMetrics(nodeId: string): NowMetrics {
  const [streamed, setStreamed] = useState<NowMetrics | null>(null);
  const [streaming, setStreaming] = useState(true);
  useEffect(() => {
    setStreamed(null);
    setStreaming(true);
    // Closed at its end or first error: EventSource would otherwise reconnect with a stream token
    // that is only good for a minute.
    let close = () => {};
    const stop = () => {
      close();
      setStreaming(false);
    };
    close = openStream(
      `/api/v1/nodes/${nodeId}/metrics/stream`,
      ["metrics", "status", "end"],
      {
        onEvent(event, data) {
          if (event === "metrics")
            setStreamed({
              cpu: data?.cpu?.usage_percent ?? null,
              memory: data?.memory?.usage_percent ?? null,
              disk: data?.disk?.usage_percent ?? null,
              uptimeSeconds: data?.uptime_seconds ?? null,
              live: true,
            });
          else if (event === "end" || (event === "status" && data?.connected === false)) stop();
        },
        // 503 (no agent) or a dropped stream: the stored sample, polled.
        onError: stop,
      },
      { interval: STREAM_INTERVAL_S },
    );
    return () => close();
  }, [nodeId]);
  const polled = useLoad(() => get<any>(`/api/v1/nodes/${nodeId}/metrics`), [nodeId]);
  useInterval(polled.reload, streaming ? null : POLL_MS);
  if (streaming && streamed) return streamed;
  const host = polled.data?.host;
  const ok = host?.available === true;
  return {
    cpu: ok ? (host.cpu?.usage_percent ?? null) : null,
    memory: ok ? (host.memory?.usage_percent ?? null) : null,
    disk: ok ? (host.disk?.usage_percent ?? null) : null,
    uptimeSeconds: ok ? (host.uptime?.seconds ?? null) : null,
    live: false,
  };
}

/** 3d 4h, 5h 12m, 7m: an uptime at a glance. */
export function uptimeText(seconds: number): string {
  const d = Math.floor(seconds / 86_400);
  const h = Math.floor((seconds % 86_400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  return d > 0 ? `${d}d ${h}h` : h > 0 ? `${h}h ${m}m` : `${m}m`;
}
