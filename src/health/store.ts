import { sql } from "drizzle-orm";
import type { Database } from "../db/client";
import type { Health } from "./schema";

/** Whether the database answers a `SELECT 1`, and how fast; never throws (a failure goes to `onError`). */
export async function pingDatabase(
  db: Database,
  onError?: (err: unknown) => void,
): Promise<Health["database"]> {
  const began = Date.now();
  try {
    await db.run(sql`SELECT 1`);
    return { reachable: true, latency_ms: Date.now() - began, error: null };
  } catch (err) {
    // The driver's message can name the database host, port or HTTP status: the caller logs it, the answer stays plain.
    onError?.(err);
    return { reachable: false, latency_ms: null, error: "Database unreachable" };
  }
}
