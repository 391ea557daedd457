// A JSON POST over node:http/https, for the enrolment. Not fetch: Node's fetch loads undici
// (with http2, web streams, perf_hooks and worker_threads), about 15 MB of RSS that a freshly
// enrolled agent then carries until it restarts (62.8 vs 47.2 MB idle, measured for issue 25);
// node:http is loaded anyway by ws for the WebSocket; node:https (and tls) only for an https URL.
import { request as httpRequest, type IncomingMessage } from "node:http";

/** The answer: status, the Location of a redirect (not followed), Retry-After, and the body as text. */
export interface PostAnswer {
  status: number;
  location: string | undefined;
  retryAfter: string | undefined;
  text: string;
}

/**
 * POSTs `body` as JSON to an http(s) URL and reads the whole answer. Redirects are returned, not
 * followed. Network errors and the timeout (for the whole exchange) reject.
 * @example const { status, text } = await postJson("https://outpost.example.com/agent/v1/enroll", body, { timeoutMs: 15_000 })
 */
export async function postJson(
  url: string,
  body: unknown,
  options: { timeoutMs: number; headers?: Record<string, string> },
): Promise<PostAnswer> {
  const target = new URL(url);
  const send = target.protocol === "https:" ? (await import("node:https")).request : httpRequest;
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const request = send(
      target,
      {
        method: "POST",
        headers: {
          ...options.headers,
          "content-type": "application/json",
          "content-length": Buffer.byteLength(payload),
        },
        signal: AbortSignal.timeout(options.timeoutMs),
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("error", reject);
        response.on("end", () =>
          resolve({
            status: response.statusCode ?? 0,
            location: response.headers.location,
            retryAfter: response.headers["retry-after"],
            text: Buffer.concat(chunks).toString("utf8"),
          }),
        );
      },
    );
    request.on("error", reject);
    request.end(payload);
  });
}

/**
 * Sends a request over node:http/https and resolves the response with its body unread (a
 * Readable of Buffers). Not fetch: see above, and fetch needs WebAssembly (undici's HTTP parser),
 * which V8's --lite-mode/--jitless turn off. The timeout covers the whole exchange, reading the
 * body included. Network errors reject with Node's error (`code` such as ECONNREFUSED).
 * @example const res = await openRequest("https://outpost.example.com/x", { timeoutMs: 10_000 })
 */
export async function openRequest(
  url: string,
  options: { timeoutMs: number; method?: string; headers?: Record<string, string>; body?: string },
): Promise<IncomingMessage> {
  const target = new URL(url);
  const send = target.protocol === "https:" ? (await import("node:https")).request : httpRequest;
  const headers: Record<string, string | number> = { ...options.headers };
  if (options.body !== undefined) headers["content-length"] = Buffer.byteLength(options.body);
  return new Promise((resolve, reject) => {
    const request = send(
      target,
      { method: options.method ?? "GET", headers, signal: AbortSignal.timeout(options.timeoutMs) },
      resolve,
    );
    request.on("error", reject);
    request.end(options.body);
  });
}

/** Reads a response's whole body as UTF-8. */
export async function readText(response: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
