import { createClient } from "@libsql/client/web";
import { drizzle } from "drizzle-orm/libsql/web";

export type Database = ReturnType<typeof createDatabase>;

/**
 * A drizzle client over libSQL's HTTP protocol (works in workerd and Node). No `schema` option:
 * nothing uses the relational query API, and with a schema drizzle rebuilds its relational config
 * on every call, which the Worker pays per request and each Durable Object per wake.
 * @example const db = createDatabase({ url: "http://127.0.0.1:8080" })
 */
export function createDatabase(options: { url: string; authToken?: string }) {
  const client = createClient({ url: options.url, authToken: options.authToken, intMode: "number" });
  return drizzle(client);
}
