// REST client for the benchmarks (Bearer API key, JSON) and an SSE reader.
import { API_KEY } from "./bench-stack";

export interface ApiResult {
  status: number;
  json: any;
}

export function apiClient(base: () => string, timeoutMs = 30_000) {
  return async function api(method: string, path: string, body?: unknown): Promise<ApiResult> {
    const res = await fetch(`${base()}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${API_KEY}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    let json: any = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = { raw: text };
    }
    return { status: res.status, json };
  };
}
export type Api = ReturnType<typeof apiClient>;

export async function must(result: Promise<ApiResult>, what: string, status = [200, 201]): Promise<any> {
  const r = await result;
  if (!status.includes(r.status))
    throw new Error(`${what}: HTTP ${r.status} ${JSON.stringify(r.json).slice(0, 500)}`);
  return r.json?.data ?? r.json;
}

/** Opens the execution's SSE stream and resolves its `end` event's data (`{status, exit_code}`). */
export async function sseEnd(
  url: string,
  timeoutMs: number,
): Promise<{ status: string; exit_code: number | null }> {
  const res = await fetch(url, {
    headers: { authorization: `Bearer ${API_KEY}`, accept: "text/event-stream" },
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (res.status !== 200) throw new Error(`SSE ${url}: HTTP ${res.status} ${await res.text()}`);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) throw new Error("SSE stream ended without an end event");
      buffer += decoder.decode(value, { stream: true });
      for (let cut = buffer.indexOf("\n\n"); cut >= 0; cut = buffer.indexOf("\n\n")) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event === "end" && data) return JSON.parse(data);
      }
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}

/** A cluster with a range big enough for `capacity` nodes and one enrollment key with unlimited uses. */
export async function clusterWithKey(api: Api, name: string, ipv4Range: string): Promise<string> {
  await must(api("POST", "/api/v1/clusters", { name, ipv4_range: ipv4Range }), `create cluster ${name}`);
  const key = await must(
    api("POST", `/api/v1/clusters/${name}/enrollment_keys`, { uses_remaining: null }),
    "create enrollment key",
  );
  return key.key as string;
}
