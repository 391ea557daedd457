import { createClient } from "@libsql/client/web";
import { drizzle } from "drizzle-orm/libsql/web";
import * as schema from "./schema";

export type Database = ReturnType<typeof createDatabase>;

/**
 * A drizzle client over libSQL's HTTP protocol (works in workerd and Node).
 * @example const db = createDatabase({ url: "http://127.0.0.1:8080" })
 */
export function createDatabase(options: { url: string; authToken?: string }) {
  const client = createClient({ url: options.url, authToken: options.authToken, intMode: "number" });
  return drizzle(client, { schema });
}
