// The dev libSQL server has no authentication, so it refuses what a web page
// could send it (review M8): an Origin header, a non-loopback Host (DNS
// rebinding), a pipeline POST that is not application/json (a "simple"
// cross-origin request), and statements that reach files outside its data
// dir (ATTACH, DETACH, VACUUM INTO). It warns when bound beyond loopback.

import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isLoopbackHost, startLibsqlServer } from "../../scripts/libsql-server/server.mjs";
import { refusedStatement } from "../../scripts/libsql-server/sql.mjs";
import { startTestServer, stmt, type TestServer } from "./helpers";

let server: TestServer;
beforeEach(async () => {
  server = await startTestServer();
});
afterEach(async () => {
  await server.close();
});

/** A raw request, so the test controls every header (fetch sets Host itself). */
function raw(
  url: string,
  {
    method = "POST",
    headers = {},
    body,
  }: { method?: string; headers?: Record<string, string>; body?: string },
): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk) => {
        text += chunk;
      });
      res.on("end", () => {
        let parsed: unknown = text;
        try {
          parsed = JSON.parse(text);
        } catch {}
        resolve({ status: res.statusCode ?? 0, body: parsed });
      });
    });
    req.on("error", reject);
    req.end(body);
  });
}

const createTable = JSON.stringify({
  requests: [{ type: "execute", stmt: stmt("CREATE TABLE planted (x)") }, { type: "close" }],
});

async function tableExists(): Promise<boolean> {
  const res = await server.pipeline({
    requests: [
      { type: "execute", stmt: stmt("SELECT count(*) FROM sqlite_master WHERE name = 'planted'") },
      { type: "close" },
    ],
  });
  return res.body.results[0].response.result.rows[0][0].value !== "0";
}

describe("requests a web page could send", () => {
  it("refuses a text/plain pipeline POST (no CORS preflight) with 415 and runs nothing", async () => {
    const res = await raw(`${server.url}/v2/pipeline`, {
      headers: { "content-type": "text/plain" },
      body: createTable,
    });
    expect(res.status).toBe(415);
    expect(res.body).toMatchObject({ code: "PROTOCOL_ERROR" });
    const none = await raw(`${server.url}/v2/pipeline`, { body: createTable });
    expect(none.status).toBe(415);
    expect(await tableExists()).toBe(false);
  });

  it("refuses any request with an Origin header with 403", async () => {
    const res = await raw(`${server.url}/v2/pipeline`, {
      headers: { "content-type": "application/json", origin: "https://evil.example" },
      body: createTable,
    });
    expect(res.status).toBe(403);
    expect(res.body.message).toMatch(/Origin/);
    const probe = await raw(`${server.url}/v2`, { method: "GET", headers: { origin: "null" } });
    expect(probe.status).toBe(403);
    expect(await tableExists()).toBe(false);
  });

  it("refuses a Host that is not loopback (DNS rebinding) and accepts loopback names", async () => {
    const port = new URL(server.url).port;
    for (const host of [`rebind.evil.example:${port}`, `10.0.0.5:${port}`, `localhost.evil.example`]) {
      const res = await raw(`${server.url}/v2/pipeline`, {
        headers: { "content-type": "application/json", host },
        body: createTable,
      });
      expect(res.status, host).toBe(403);
      expect(res.body.message, host).toMatch(/not a loopback/);
    }
    expect(await tableExists()).toBe(false);
    for (const host of [
      `127.0.0.1:${port}`,
      `localhost:${port}`,
      "LOCALHOST",
      `[::1]:${port}`,
      "app.localhost",
    ]) {
      const res = await raw(`${server.url}/v2`, { method: "GET", headers: { host } });
      expect(res.status, host).toBe(200);
    }
  });

  it("still serves @libsql/client, which sends application/json", async () => {
    const client = server.client();
    expect((await client.execute("SELECT 1 AS one")).rows[0].one).toBe(1);
  });
});

describe("statements that reach other files", () => {
  it("refuses ATTACH, DETACH and VACUUM INTO in execute, batch, sequence and describe", async () => {
    const outside = path.join(server.dataDir, "..", `planted-${process.pid}-${Date.now()}.db`);
    const attacks = [
      `ATTACH '${outside}' AS planted`,
      `attach database '${outside}' as planted`,
      `/* hi */ EXPLAIN QUERY PLAN ATTACH '${outside}' AS planted`,
      "DETACH planted",
      `VACUUM INTO '${outside}'`,
      `vacuum main into '${outside}'`,
    ];
    for (const sql of attacks) {
      const res = await server.pipeline({
        requests: [
          { type: "execute", stmt: stmt(sql) },
          { type: "batch", batch: { steps: [{ stmt: stmt(sql) }] } },
          { type: "sequence", sql: `SELECT 1; ${sql};` },
          { type: "describe", sql },
          { type: "close" },
        ],
      });
      expect(res.status, sql).toBe(200);
      const [execute, batch, sequence, described] = res.body.results;
      expect(execute, sql).toMatchObject({ type: "error", error: { code: "SQLITE_AUTH" } });
      expect(batch.response.result.step_errors[0], sql).toMatchObject({ code: "SQLITE_AUTH" });
      expect(sequence, sql).toMatchObject({ type: "error", error: { code: "SQLITE_AUTH" } });
      expect(described, sql).toMatchObject({ type: "error", error: { code: "SQLITE_AUTH" } });
      expect(fs.existsSync(outside), sql).toBe(false);
    }
    const client = server.client();
    await expect(client.execute(`ATTACH '${outside}' AS planted`)).rejects.toThrow(/not authorized/);
    expect(fs.existsSync(outside)).toBe(false);
  });

  it("leaves VACUUM, PRAGMA and words like `attach` used as names alone", async () => {
    const client = server.client();
    await client.execute("CREATE TABLE t (attach TEXT, detach TEXT)");
    await client.execute("INSERT INTO t (attach, detach) VALUES ('a', 'VACUUM INTO x')");
    expect((await client.execute("SELECT attach FROM t")).rows[0].attach).toBe("a");
    await client.execute("VACUUM");
    expect(refusedStatement("SELECT 'ATTACH x AS y'")).toBeNull();
    expect(refusedStatement("SELECT 1; ATTACH 'x' AS y")).toBe("ATTACH");
    expect(refusedStatement("-- c\nVaCuUm /* */ INTO 'f'")).toBe("VACUUM INTO");
  });
});

describe("binding", () => {
  it("warns loudly when bound to a non-loopback address, and still checks Host", async () => {
    const warnings: string[] = [];
    const dataDir = fs.mkdtempSync(path.join(server.dataDir, "wide-"));
    const wide = await startLibsqlServer({ host: "0.0.0.0", dataDir, warn: (m) => warnings.push(m) });
    try {
      expect(warnings.join("\n")).toMatch(/WARNING.*0\.0\.0\.0.*not on loopback[\s\S]*NO authentication/);
      const res = await raw(`${wide.url}/v2`, { method: "GET", headers: { host: `192.0.2.7:${wide.port}` } });
      expect(res.status).toBe(403);
    } finally {
      await wide.close();
    }
  });

  it("does not warn on loopback", async () => {
    const warnings: string[] = [];
    const dataDir = fs.mkdtempSync(path.join(server.dataDir, "narrow-"));
    const narrow = await startLibsqlServer({ host: "127.0.0.1", dataDir, warn: (m) => warnings.push(m) });
    await narrow.close();
    expect(warnings).toEqual([]);
    expect(["127.0.0.1", "::1", "[::1]", "localhost", "a.localhost"].every(isLoopbackHost)).toBe(true);
    expect(["0.0.0.0", "10.0.0.1", "localhost.example", "example.com"].some(isLoopbackHost)).toBe(false);
  });
});
