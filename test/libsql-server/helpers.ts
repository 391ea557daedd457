import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { type Client, type Config, createClient } from "@libsql/client";
import {
  type LibsqlServerOptions,
  libsqlUrl,
  startLibsqlServer,
} from "../../scripts/libsql-server/server.mjs";

export interface TestServer {
  url: string;
  dataDir: string;
  /** A Node client for a namespace (default database when omitted). */
  client(namespace?: string, config?: Partial<Config>): Client;
  /** Raw POST to a pipeline endpoint. */
  pipeline(body: unknown, namespace?: string): Promise<{ status: number; body: any }>;
  restart(): Promise<void>;
  close(): Promise<void>;
}

/** Starts a server on port 0 in a fresh temp dir; `close()` stops it and removes the dir. */
export async function startTestServer(options: LibsqlServerOptions = {}): Promise<TestServer> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "libsql-server-test-"));
  let server = await startLibsqlServer({ ...options, dataDir });
  const clients: Client[] = [];
  const self: TestServer = {
    get url() {
      return server.url;
    },
    dataDir,
    client(namespace, config = {}) {
      const client = createClient({ url: libsqlUrl(server.url, namespace), ...config });
      clients.push(client);
      return client;
    },
    async pipeline(body, namespace) {
      const url = namespace ? `${server.url}/${namespace}/v2/pipeline` : `${server.url}/v2/pipeline`;
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: typeof body === "string" ? body : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null };
    },
    async restart() {
      for (const client of clients.splice(0)) client.close();
      await server.close();
      server = await startLibsqlServer({ ...options, dataDir });
    },
    async close() {
      for (const client of clients.splice(0)) client.close();
      await server.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return self;
}

export const stmt = (sql: string, args: unknown[] = []) => ({
  sql,
  args: args.map((value) => {
    if (value === null) return { type: "null" };
    if (typeof value === "bigint") return { type: "integer", value: String(value) };
    if (typeof value === "number") return { type: "float", value };
    return { type: "text", value: String(value) };
  }),
});
