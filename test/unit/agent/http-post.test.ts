// postJson, the enrolment's HTTP client (node:http instead of fetch, for the agent's memory):
// body and headers sent, redirects returned not followed, timeout and refused connections reject.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postJson } from "../../../agent/http-post";

let server: Server;
let base = "";
const seen: { method?: string; headers: IncomingMessage["headers"]; body: string }[] = [];
const routes: Record<string, (res: ServerResponse) => void> = {
  "/created": (res) => res.writeHead(201, { "content-type": "application/json" }).end('{"data":{"ok":true}}'),
  "/moved": (res) => res.writeHead(308, { location: "https://elsewhere.example/agent/v1/enroll" }).end(),
  "/slow": () => {},
};

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      seen.push({ method: req.method, headers: req.headers, body });
      routes[req.url ?? ""]?.(res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => {
  server.closeAllConnections();
  server.close();
});

describe("postJson", () => {
  it("POSTs JSON with the given headers and reads the whole answer", async () => {
    const answer = await postJson(
      `${base}/created`,
      { key: "k" },
      { timeoutMs: 2000, headers: { "user-agent": "t/1" } },
    );
    expect(answer).toEqual({ status: 201, location: undefined, text: '{"data":{"ok":true}}' });
    expect(seen.at(-1)).toMatchObject({
      method: "POST",
      body: '{"key":"k"}',
      headers: { "content-type": "application/json", "user-agent": "t/1", "content-length": "11" },
    });
  });

  it("returns a redirect with its location instead of following it", async () => {
    const answer = await postJson(`${base}/moved`, {}, { timeoutMs: 2000 });
    expect(answer).toMatchObject({ status: 308, location: "https://elsewhere.example/agent/v1/enroll" });
  });

  it("rejects when no answer comes within the timeout", async () => {
    await expect(postJson(`${base}/slow`, {}, { timeoutMs: 200 })).rejects.toThrow(/abort|timeout/i);
  });

  it("rejects with the system error when nothing listens", async () => {
    await expect(postJson("http://127.0.0.1:9/", {}, { timeoutMs: 2000 })).rejects.toMatchObject({
      code: "ECONNREFUSED",
    });
  });
});
