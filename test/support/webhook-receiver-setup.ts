import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    webhookReceiver: { url: string; secret: string };
  }
}

/** What the receiver saw of one request; `signature_valid` is checked here, with Node's crypto. */
export interface ReceivedRequest {
  path: string;
  method: string;
  headers: Record<string, string>;
  body: string;
  signature_valid: boolean;
  received_at: number;
}

function verify(secret: string, body: string, header: string | undefined): boolean {
  const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header ?? "");
  if (!match) return false;
  const expected = createHmac("sha256", secret).update(`${match[1]}.${body}`).digest();
  return timingSafeEqual(expected, Buffer.from(match[2], "hex"));
}

/**
 * A webhook receiver for the integration tests (workerd cannot listen). It records
 * every request and answers by path: `/ok/…` 200, `/flaky/…` 500 twice then 200
 * (per path), `/down/…` always 500, `/slow/…` 200 after 3 s, `/redirect/…` 302 to `/ok/…`.
 * `GET /__requests?prefix=/ok/x` lists what was recorded under a path prefix.
 */
export default async function setup(project: TestProject) {
  const secret = randomBytes(32).toString("hex");
  const received: ReceivedRequest[] = [];
  const hits = new Map<string, number>();

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? "/", "http://receiver");
    if (url.pathname === "/__requests") {
      const prefix = url.searchParams.get("prefix") ?? "/";
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(received.filter((r) => r.path.startsWith(prefix))));
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString("utf8");
    const headers = Object.fromEntries(
      Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(", ") : (v ?? "")]),
    );
    received.push({
      path: url.pathname,
      method: req.method ?? "",
      headers,
      body,
      signature_valid: verify(secret, body, headers["x-edge-signature"]),
      received_at: Date.now(),
    });
    const count = (hits.get(url.pathname) ?? 0) + 1;
    hits.set(url.pathname, count);
    const [, kind, rest] = /^\/([^/]+)(.*)$/.exec(url.pathname) ?? [];
    if (kind === "ok") res.writeHead(200).end("ok");
    else if (kind === "flaky") res.writeHead(count <= 2 ? 500 : 200).end();
    else if (kind === "slow") setTimeout(() => res.writeHead(200).end(), 3000);
    else if (kind === "redirect") res.writeHead(302, { location: `/ok${rest}` }).end();
    else res.writeHead(500).end("down");
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => res.writeHead(500).end());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  project.provide("webhookReceiver", { url: `http://127.0.0.1:${port}`, secret });
  return async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  };
}
